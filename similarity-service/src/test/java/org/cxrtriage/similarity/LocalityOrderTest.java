package org.cxrtriage.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class LocalityOrderTest {

    /** 20 well-separated clusters of 500 cases each, shuffled together. */
    private static List<CaseRecord> clustered(long seed) {
        Random rnd = new Random(seed);
        int dim = 32;
        float[][] centres = new float[20][dim];
        for (float[] c : centres) {
            for (int d = 0; d < dim; d++) {
                c[d] = (float) (rnd.nextGaussian() * 10);
            }
        }
        List<CaseRecord> cases = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            float[] c = centres[rnd.nextInt(centres.length)];
            float[] v = new float[dim];
            for (int d = 0; d < dim; d++) {
                v[d] = c[d] + (float) rnd.nextGaussian();
            }
            cases.add(new CaseRecord("i" + i, "p" + i, "s", i, 0.5f, false, v, null));
        }
        return cases;
    }

    private static double meanStep(List<CaseRecord> cases, int[] order) {
        double sum = 0;
        for (int i = 1; i < order.length; i++) {
            sum += Math.sqrt(Distances.squareDistance(cases.get(order[i - 1]).embedding(),
                    cases.get(order[i]).embedding()));
        }
        return sum / (order.length - 1);
    }

    @Test
    void isAPermutationOfEveryCase() {
        List<CaseRecord> cases = clustered(1);
        int[] order = LocalityOrder.of(cases);
        assertThat(order).hasSize(cases.size());
        int[] sorted = order.clone();
        Arrays.sort(sorted);
        assertThat(sorted).isEqualTo(IntStream.range(0, cases.size()).toArray());
    }

    @Test
    void putsNearbyEmbeddingsNextToEachOther() {
        List<CaseRecord> cases = clustered(2);
        double arrival = meanStep(cases, IntStream.range(0, cases.size()).toArray());
        double local = meanStep(cases, LocalityOrder.of(cases));
        // Arrival order jumps between clusters (about 45 apart) at almost every step; locality order stays inside a
        // cluster (about 8 between two of its members) except in the arrival-order prefix and at cluster boundaries.
        assertThat(local).isLessThan(arrival / 3);
    }

    @Test
    void keepsTheFirstTenthInArrivalOrderAheadOfTheRest() {
        List<CaseRecord> cases = clustered(4);
        int[] order = LocalityOrder.of(cases);
        int prefix = (int) (cases.size() * LocalityOrder.ARRIVAL_PREFIX);
        assertThat(Arrays.copyOf(order, prefix)).isEqualTo(IntStream.range(0, prefix).toArray());
        assertThat(Arrays.stream(order, prefix, order.length).min().orElseThrow()).isEqualTo(prefix);
    }

    @Test
    void isTheSameOnEveryRunAndHandlesTinyInputs() {
        List<CaseRecord> cases = clustered(3);
        assertThat(LocalityOrder.of(cases)).isEqualTo(LocalityOrder.of(cases));
        assertThat(LocalityOrder.of(List.of())).isEmpty();
        assertThat(LocalityOrder.of(cases.subList(0, 1))).containsExactly(0);
    }
}
