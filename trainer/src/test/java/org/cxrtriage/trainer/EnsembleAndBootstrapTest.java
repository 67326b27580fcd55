package org.cxrtriage.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnsembleAndBootstrapTest {
    private static Evaluation.Case c(String file, boolean positive, double score, float... embedding) {
        return new Evaluation.Case(file, "p-" + file, "s", positive, score, embedding);
    }

    @Test
    void majorityVoteOfThreeModels() {
        // thresholds 0.5, 0.3, 0.7; case a: calls Y,Y,N -> positive; case b: N,Y,N -> negative; case c: Y,Y,Y
        List<List<Evaluation.Case>> perModel = List.of(
                List.of(c("a", true, 0.6, 1f), c("b", false, 0.4, 2f), c("c", true, 0.9, 3f)),
                List.of(c("a", true, 0.5, 4f), c("b", false, 0.35, 5f), c("c", true, 0.8, 6f)),
                List.of(c("a", true, 0.1, 7f), c("b", false, 0.6, 8f), c("c", true, 0.75, 9f)));
        List<Evaluation.Case> e = Evaluation.ensemble(perModel, new double[] {0.5, 0.3, 0.7});
        assertThat(e).extracting(Evaluation.Case::call).containsExactly(true, false, true);
        assertThat(e.get(0).score()).isCloseTo(0.4, within(1e-12)); // mean probability
        assertThat(e.get(1).score()).isCloseTo(0.45, within(1e-12));
        assertThat(e.get(0).embedding()).containsExactly(1f, 4f, 7f);
        // the vote, not mean >= threshold, decides: case a has mean 0.4 < every model's... yet is positive
        assertThat(e.get(0).calledAt(0.99)).isTrue();
        assertThat(e.get(1).calledAt(0.0)).isFalse();
    }

    @Test
    void tieIsBrokenByMeanProbabilityAgainstMeanThreshold() {
        List<List<Evaluation.Case>> perModel = List.of(
                List.of(c("a", true, 0.9), c("b", false, 0.55)),
                List.of(c("a", true, 0.2), c("b", false, 0.1)));
        // thresholds 0.5 / 0.5: a: Y,N mean 0.55 >= 0.5 -> positive; b: Y,N mean 0.325 -> negative
        List<Evaluation.Case> e = Evaluation.ensemble(perModel, new double[] {0.5, 0.5});
        assertThat(e).extracting(Evaluation.Case::call).containsExactly(true, false);
    }

    @Test
    void ensembleRejectsMismatchedCases() {
        assertThatThrownBy(() -> Evaluation.ensemble(List.of(List.of(c("a", true, 0.9)), List.of(c("b", true, 0.9))),
                new double[] {0.5, 0.5})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Evaluation.ensemble(List.of(List.of(c("a", true, 0.9))), new double[] {0.5, 0.5}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void singleModelCallIsScoreAtThreshold() {
        Evaluation.Case a = c("a", true, 0.6);
        assertThat(a.call()).isNull();
        assertThat(a.calledAt(0.5)).isTrue();
        assertThat(a.calledAt(0.7)).isFalse();
    }

    @Test
    void patientBootstrapKeepsPatientsTogether() {
        // patient A has 3 images, B and C one each; each replicate's index set is a union of whole patients
        String[] groups = {"A", "B", "A", "C", "A"};
        List<int[]> seen = new ArrayList<>();
        Map<String, java.util.function.Function<int[], Double>> fns = Map.of("n", idx -> {
            seen.add(idx.clone());
            return (double) idx.length;
        });
        Map<String, Metrics.Estimate> est = Metrics.bootstrap(5, groups, fns, 200, 3);
        assertThat(est.get("n").value()).isEqualTo(5.0);
        for (int[] idx : seen.subList(0, 200)) {
            int a = 0;
            for (int i : idx) {
                if (groups[i].equals("A")) {
                    a++;
                }
            }
            assertThat(a % 3).isZero();
            assertThat(idx.length).isBetween(3, 9);
        }
        // a replicate draws 3 patients, so sizes 3 (B,C only) .. 9 (A three times) occur
        assertThat(seen.stream().mapToInt(i -> i.length).max().getAsInt()).isGreaterThan(5);
    }

    @Test
    void patientBootstrapIsWiderThanImageBootstrapForClusteredData() {
        // 20 patients with 10 identical images each: the image bootstrap badly understates the variance
        int patients = 20;
        int per = 10;
        double[] s = new double[patients * per];
        boolean[] l = new boolean[s.length];
        String[] g = new String[s.length];
        java.util.Random r = new java.util.Random(5);
        for (int p = 0; p < patients; p++) {
            boolean label = p % 2 == 0;
            double score = label ? 0.5 + 0.5 * r.nextDouble() : 0.7 * r.nextDouble();
            for (int k = 0; k < per; k++) {
                s[p * per + k] = score;
                l[p * per + k] = label;
                g[p * per + k] = "p" + p;
            }
        }
        Metrics.Estimate img = Metrics.withBootstrap(s, l, null, null, 0.5, 500, 1).get("rocAuc");
        Metrics.Estimate pat = Metrics.withBootstrap(s, l, null, g, 0.5, 500, 1).get("rocAuc");
        assertThat(pat.value()).isEqualTo(img.value());
        assertThat(pat.upper() - pat.lower()).isGreaterThan(1.5 * (img.upper() - img.lower()));
    }

    @Test
    void sensitivityAtSpecificityAndPrCurve() {
        double[] s = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
        boolean[] l = {true, true, false, true, false, false};
        // spec >= 2/3 allows one false positive: threshold 0.6 -> sens 1
        assertThat(Metrics.sensitivityAtSpecificity(s, l, 0.66)).isEqualTo(1.0);
        // spec 1: threshold 0.8 -> sens 2/3
        assertThat(Metrics.sensitivityAtSpecificity(s, l, 1.0)).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(Metrics.sensitivityAtSpecificity(s, new boolean[6], 0.9)).isNaN();
        List<double[]> pr = Metrics.prCurve(s, l);
        assertThat(pr).hasSize(6);
        assertThat(pr.get(0)).containsExactly(1.0 / 3, 1.0);
        assertThat(pr.get(2)).containsExactly(2.0 / 3, 2.0 / 3);
        assertThat(pr.get(5)).containsExactly(1.0, 0.5);
    }

    @Test
    void callsOverrideThresholdInBootstrap() {
        double[] s = {0.9, 0.1};
        boolean[] l = {true, false};
        boolean[] calls = {false, true}; // both wrong
        assertThat(Metrics.withBootstrap(s, l, calls, null, 0.5, 20, 1).get("accuracy").value()).isZero();
        assertThat(Metrics.withBootstrap(s, l, null, null, 0.5, 20, 1).get("accuracy").value()).isEqualTo(1.0);
    }
}
