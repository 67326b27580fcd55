package org.cxrtriage.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HnswNeighbourIndexTest {

    @Test
    void findsWhatExactSearchFindsAndExcludesThePatient() {
        Random rnd = new Random(11);
        ExactNeighbourIndex exact = new ExactNeighbourIndex();
        int matches = 0;
        int queries = 50;
        try (HnswNeighbourIndex hnsw = new HnswNeighbourIndex()) {
            for (int i = 0; i < 3000; i++) {
                float[] v = new float[32];
                for (int j = 0; j < v.length; j++) {
                    v[j] = (float) rnd.nextGaussian();
                }
                CaseRecord c = new CaseRecord("i" + i, "p" + (i / 2), "s", i, 0.5f, i % 3 == 0, v, null);
                exact.put(c);
                hnsw.put(c);
            }
            for (int q = 0; q < queries; q++) {
                CaseRecord query = exact.get("i" + (q * 37)).orElseThrow();
                List<NeighbourIndex.Hit> a = hnsw.search(query.embedding(), 4, query.patientRef());
                List<NeighbourIndex.Hit> e = exact.search(query.embedding(), 4, query.patientRef());
                assertThat(a).hasSize(4).allSatisfy(h -> assertThat(h.record().patientRef()).isNotEqualTo(query.patientRef()));
                assertThat(a).extracting(NeighbourIndex.Hit::distance).isSorted();
                Set<String> expected = new HashSet<>();
                e.forEach(h -> expected.add(h.record().imageId()));
                matches += (int) a.stream().filter(h -> expected.contains(h.record().imageId())).count();
            }
            assertThat(hnsw.size()).isEqualTo(3000);
            assertThat(hnsw.get("i5")).isPresent();
        }
        // recall@4 against exact search
        assertThat(matches / (4.0 * queries)).isGreaterThanOrEqualTo(0.95);
    }

    @Test
    void aRefreshAfterABulkLoadWritesEveryBufferAndLeavesNothingToDoForTheFirstSearch() {
        List<CaseRecord> all = cases(2_000, 5);
        try (HnswNeighbourIndex hnsw = new HnswNeighbourIndex()) {
            hnsw.refresh(); // nothing buffered yet: a no-op
            hnsw.putAll(all); // two threads: two buffers
            hnsw.refresh();
            assertThat(hnsw.segments()).isBetween(1, 2);
            CaseRecord q = all.get(1234);
            assertThat(hnsw.search(q.embedding(), 1, null)).extracting(h -> h.record().imageId())
                    .containsExactly("i1234");
            hnsw.refresh(); // again, with nothing new
            assertThat(hnsw.size()).isEqualTo(2_000);
        }
    }

    private static List<CaseRecord> cases(int n, long seed) {
        Random rnd = new Random(seed);
        List<CaseRecord> out = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] v = new float[16];
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) rnd.nextGaussian();
            }
            out.add(new CaseRecord("i" + i, "p" + (i / 2), "s", i, 0.5f, false, v, null));
        }
        return out;
    }

    @Test
    void aSnapshotReopensWithItsCasesLabelsAndChangeNumber(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        List<CaseRecord> all = cases(500, 3);
        List<NeighbourIndex.Hit> before;
        try (HnswNeighbourIndex index = new HnswNeighbourIndex(100, dir)) {
            assertThat(index.snapshotChange()).isEqualTo(-1);
            index.putAll(all);
            index.put(all.get(7).withConfirmed(true));
            before = index.search(all.get(0).embedding(), 4, "p0");
            index.commit(500, "epoch-1");
        }
        try (HnswNeighbourIndex reopened = new HnswNeighbourIndex(100, dir)) {
            assertThat(reopened.snapshotChange()).isEqualTo(500);
            assertThat(reopened.snapshotEpoch()).isEqualTo("epoch-1");
            assertThat(reopened.size()).isEqualTo(500);
            assertThat(reopened.get("i7").orElseThrow().confirmedPositive()).isTrue();
            assertThat(reopened.get("i8").orElseThrow().embedding()).isEqualTo(all.get(8).embedding());
            assertThat(reopened.search(all.get(0).embedding(), 4, "p0")).extracting(h -> h.record().imageId())
                    .isEqualTo(before.stream().map(h -> h.record().imageId()).toList());
            reopened.clear();
            assertThat(reopened.size()).isZero();
            assertThat(reopened.search(all.get(0).embedding(), 4, null)).isEmpty();
        }
    }

    @Test
    void aRemovedCaseIsNotFoundNotReturnedAndStaysRemovedInTheSnapshot(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        List<CaseRecord> all = cases(300, 4);
        CaseRecord gone = all.get(42);
        try (HnswNeighbourIndex index = new HnswNeighbourIndex(100, dir)) {
            index.putAll(all);
            assertThat(index.search(gone.embedding(), 1, null)).extracting(h -> h.record().imageId())
                    .containsExactly(gone.imageId());

            index.remove(gone.imageId());

            assertThat(index.get(gone.imageId())).isEmpty();
            assertThat(index.size()).isEqualTo(299);
            assertThat(index.search(gone.embedding(), 10, null)).hasSize(10)
                    .noneMatch(h -> h.record().imageId().equals(gone.imageId()));
            index.commit(301, "epoch-1");
        }
        try (HnswNeighbourIndex reopened = new HnswNeighbourIndex(100, dir)) {
            assertThat(reopened.size()).isEqualTo(299);
            assertThat(reopened.get(gone.imageId())).isEmpty();
            assertThat(reopened.search(gone.embedding(), 10, null))
                    .noneMatch(h -> h.record().imageId().equals(gone.imageId()));
        }
    }
}
