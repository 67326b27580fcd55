package org.cxrtriage.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExactNeighbourIndexTest {

    private static CaseRecord at(String id, String patient, float x, float y) {
        return new CaseRecord(id, patient, "site", 0L, 0.5f, false, new float[] {x, y}, null);
    }

    @Test
    void returnsTheKNearestInOrderOfDistance() {
        ExactNeighbourIndex index = new ExactNeighbourIndex();
        index.put(at("a", "p1", 0, 0));
        index.put(at("b", "p2", 3, 4));
        index.put(at("c", "p3", 1, 0));
        index.put(at("d", "p4", 10, 10));
        index.put(at("e", "p5", 0, 2));

        List<NeighbourIndex.Hit> hits = index.search(new float[] {0, 0}, 3, null);

        assertThat(hits).extracting(h -> h.record().imageId()).containsExactly("a", "c", "e");
        assertThat(hits).extracting(NeighbourIndex.Hit::distance).containsExactly(0f, 1f, 2f);
    }

    @Test
    void skipsExcludedCasesAndReturnsFewerWhenTheIndexIsSmall() {
        ExactNeighbourIndex index = new ExactNeighbourIndex();
        index.put(at("a", "same", 0, 0));
        index.put(at("b", "other", 3, 4));

        List<NeighbourIndex.Hit> hits = index.search(new float[] {0, 0}, 4, "same");

        assertThat(hits).extracting(h -> h.record().imageId()).containsExactly("b");
        assertThat(hits.get(0).distance()).isEqualTo(5f);
    }

    @Test
    void putReplacesTheCaseWithTheSameImageId() {
        ExactNeighbourIndex index = new ExactNeighbourIndex();
        index.put(at("a", "p1", 0, 0));
        index.put(at("a", "p1", 0, 0).withConfirmed(true));

        assertThat(index.size()).isEqualTo(1);
        assertThat(index.get("a")).get().extracting(CaseRecord::confirmedPositive).isEqualTo(true);
    }

    @Test
    void aRemovedCaseIsNeitherFoundNorReturnedAndTheOthersStayWhereTheyWere() {
        ExactNeighbourIndex index = new ExactNeighbourIndex();
        index.put(at("a", "p1", 0, 0));
        index.put(at("b", "p2", 1, 0));
        index.put(at("c", "p3", 2, 0));

        index.remove("a");
        index.remove("missing");

        assertThat(index.size()).isEqualTo(2);
        assertThat(index.get("a")).isEmpty();
        assertThat(index.get("c")).get().extracting(CaseRecord::imageId).isEqualTo("c");
        assertThat(index.search(new float[] {0, 0}, 4, null)).extracting(h -> h.record().imageId())
                .containsExactly("b", "c");
        index.put(at("a", "p1", 0, 0)); // the position bookkeeping still holds
        assertThat(index.search(new float[] {0, 0}, 1, null)).extracting(h -> h.record().imageId())
                .containsExactly("a");
    }

    @Test
    void agreesWithSortingAllDistancesOnRandomData() {
        java.util.Random rnd = new java.util.Random(7);
        ExactNeighbourIndex index = new ExactNeighbourIndex();
        float[][] points = new float[500][16];
        for (int i = 0; i < points.length; i++) {
            for (int j = 0; j < 16; j++) {
                points[i][j] = (float) rnd.nextGaussian();
            }
            index.put(new CaseRecord("i" + i, "p" + i, "s", i, 0f, false, points[i], null));
        }
        float[] q = points[0].clone();
        q[0] += 0.1f;
        List<String> expected = java.util.stream.IntStream.range(0, points.length).boxed()
                .sorted(java.util.Comparator.comparingDouble(i -> ExactNeighbourIndex.distance(q, points[i])))
                .limit(4).map(i -> "i" + i).toList();

        assertThat(index.search(q, 4, null)).extracting(h -> h.record().imageId()).isEqualTo(expected);
    }
}
