package org.cxrtriage.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.schemas.AlertEvent;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.CxrLabel;
import org.cxrtriage.schemas.CxrScore;
import org.cxrtriage.schemas.LabelSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** Against a real Redis ($REDIS_URL, default 127.0.0.1:6379), in a key namespace of its own. */
class SimilarityProcessorRedisTest {

    private RedisClient redis;
    private String prefix;

    @BeforeEach
    void connect() {
        String url = System.getenv().getOrDefault(CommonKeys.REDIS_URL, CommonKeys.DEFAULT_REDIS_URL);
        redis = RedisClient.create(URI.create(url));
        prefix = "cxr:unit-" + UUID.randomUUID() + ":";
    }

    @AfterEach
    void cleanUp() {
        List<String> keys = new ArrayList<>(redis.keys(prefix + "*"));
        if (!keys.isEmpty()) {
            redis.del(keys.toArray(String[]::new));
        }
        redis.close();
    }

    private SimilarityProcessor processor(NeighbourIndex index) {
        return new SimilarityProcessor(index, new CaseStore(redis, prefix), AlertPolicy.modelCall(), 4,
                Duration.ofHours(1));
    }

    private static CxrScore score(String image, String patient, float p, float... embedding) {
        List<Float> e = new ArrayList<>();
        for (float v : embedding) {
            e.add(v);
        }
        return CxrScore.newBuilder().setImageId(image).setStudyId("s").setPatientRef(patient).setSiteId("site-a")
                .setProbability(p).setPositive(p >= 0.5f).setThreshold(0.5f).setModelName("m").setModelVersion("1")
                .setEmbedding(e).setReceivedAt(Instant.EPOCH).setScoredAt(Instant.ofEpochMilli(1000))
                .setInferenceMs(1f).setBatchSize(1).build();
    }

    @Test
    void findsPriorCasesOfOtherPatientsAndVotesWithTheirLabels() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        p.onScore(score("a", "p1", 0.9f, 0, 0), Instant.now());
        p.onScore(score("b", "p2", 0.1f, 1, 0), Instant.now());
        p.onScore(score("c", "p3", 0.8f, 5, 5), Instant.now());

        SimilarityProcessor.Result r = p.onScore(score("d", "p1", 0.2f, 0.1f, 0), Instant.now());

        // p1's own earlier image "a" is excluded although it is the closest.
        assertThat(r.neighbours().getNeighbours()).extracting(n -> n.getImageId()).containsExactly("b", "c");
        assertThat(r.neighbours().getKnnVote()).isEqualTo(0.5f);
        assertThat(r.alert()).isNull();
    }

    @Test
    void scoresOfAnotherModelAreNeitherComparedWithTheCasesNorStoredAmongThemButStillAlert(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        try (HnswNeighbourIndex index = new HnswNeighbourIndex(100, dir)) {
            SimilarityProcessor p = processor(index);
            p.onScore(score("a", "p1", 0.1f, 0, 0), Instant.now());
            p.onScore(score("b", "p2", 0.1f, 1, 0), Instant.now());
            // Model 2 makes 3-d embeddings: the vector index would refuse them (and the batch be retried for ever).
            CxrScore other = CxrScore.newBuilder(score("c", "p3", 0.9f, 0, 0, 0)).setModelVersion("2").build();

            SimilarityProcessor.Result r = p.onScore(other, Instant.now());

            assertThat(r.otherEmbeddingSpace()).isTrue();
            assertThat(r.neighbours().getNeighbours()).isEmpty();
            assertThat(r.neighbours().getKnnVote()).isNaN();
            assertThat(r.alert()).as("a positive still alerts on its score").isNotNull();
            assertThat(p.caseOf("c")).as("not stored among model 1's cases").isEmpty();
            SimilarityProcessor.Result same = p.onScore(score("d", "p4", 0.1f, 0.1f, 0), Instant.now());
            assertThat(same.otherEmbeddingSpace()).isFalse();
            assertThat(same.neighbours().getNeighbours()).extracting(n -> n.getImageId()).containsExactly("a", "b");
            // Every instance of this store keeps the first model's space.
            assertThat(processor(new ExactNeighbourIndex()).restoreCase(other)).isFalse();
        }
    }

    @Test
    void aReaderCatchingUpWhileTwoInstancesSaveSeesEveryCase() throws Exception {
        // Each change number is taken and filed in one step: filed in two, a reader could pass a number filed late.
        int perWriter = 300;
        java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread reader = new Thread(() -> {
            CaseStore store = new CaseStore(redis, prefix);
            long synced = 0;
            while (writing.get() || synced < store.lastChange()) {
                for (CaseStore.Change c : store.changedSince(synced)) {
                    seen.add(c.imageId());
                    synced = Math.max(synced, c.seq());
                }
            }
        });
        reader.start();
        Thread[] writers = new Thread[2];
        for (int w = 0; w < writers.length; w++) {
            String name = "w" + w;
            writers[w] = new Thread(() -> {
                try (RedisClient own = RedisClient.create(URI.create(System.getenv().getOrDefault(
                        CommonKeys.REDIS_URL, CommonKeys.DEFAULT_REDIS_URL)))) {
                    CaseStore store = new CaseStore(own, prefix);
                    for (int i = 0; i < perWriter; i++) {
                        store.save(new CaseRecord(name + "-" + i, "p", "site", i, 0.1f, false, new float[] {i, 0},
                                null));
                    }
                }
            });
            writers[w].start();
        }
        for (Thread w : writers) {
            w.join();
        }
        writing.set(false);
        reader.join(30_000);
        assertThat(seen).hasSize(2 * perWriter);
    }

    @Test
    void alertsOncePerPatientAcrossImagesReplaysAndInstances() {
        SimilarityProcessor first = processor(new ExactNeighbourIndex());
        SimilarityProcessor.Result r1 = first.onScore(score("a", "p1", 0.9f, 0, 0), Instant.now());
        SimilarityProcessor.Result r2 = first.onScore(score("b", "p1", 0.95f, 1, 1), Instant.now());
        SimilarityProcessor.Result replay = first.onScore(score("a", "p1", 0.9f, 0, 0), Instant.now());
        // A second instance sharing the Redis store.
        SimilarityProcessor second = processor(new ExactNeighbourIndex());
        SimilarityProcessor.Result r3 = second.onScore(score("c", "p1", 0.9f, 2, 2), Instant.now());
        SimilarityProcessor.Result other = second.onScore(score("d", "p2", 0.9f, 2, 2), Instant.now());

        assertThat(r1.alert()).isNotNull();
        assertThat(r1.alert().getPatientRef()).isEqualTo("p1");
        assertThat(r1.alert().getEvent()).isEqualTo(AlertEvent.OPENED);
        // A later positive image of the patient updates the same alert.
        assertThat(r2.alert().getEvent()).isEqualTo(AlertEvent.UPDATED);
        assertThat(r2.alert().getAlertId()).isEqualTo(r1.alert().getAlertId());
        assertThat(r2.alert().getOpenedByImageId()).isEqualTo("a");
        assertThat(r2.alert().getImageId()).isEqualTo("b");
        assertThat(r2.alert().getImageCount()).isEqualTo(2);
        assertThat(r2.alert().getFirstSeen()).isEqualTo(r1.alert().getFirstSeen());
        // Processing the opening image again (a retried transaction) yields the same alert, not a new one.
        assertThat(replay.alert()).isNotNull();
        assertThat(replay.alert().getAlertId()).isEqualTo(r1.alert().getAlertId());
        assertThat(replay.alert().getFirstSeen()).isEqualTo(r1.alert().getFirstSeen());
        assertThat(replay.alert().getEvent()).isEqualTo(AlertEvent.OPENED);
        // The second instance updates the same alert rather than opening another; a replayed image is not counted twice.
        assertThat(r3.alert().getAlertId()).isEqualTo(r1.alert().getAlertId());
        assertThat(r3.alert().getImageCount()).isEqualTo(3);
        assertThat(second.onScore(score("c", "p1", 0.9f, 2, 2), Instant.now()).alert().getImageCount()).isEqualTo(3);
        assertThat(other.alert().getEvent()).isEqualTo(AlertEvent.OPENED);
        assertThat(other.alert().getAlertId()).isNotEqualTo(r1.alert().getAlertId());
    }

    @Test
    void instancesSharingTheStoreSearchTheSameCasesAndSeeEachOthersLabels() {
        SimilarityProcessor a = processor(new ExactNeighbourIndex());
        SimilarityProcessor b = processor(new HnswNeighbourIndex(100));
        a.onScore(score("x1", "p1", 0.1f, 0, 0), Instant.now());
        b.onScore(score("x2", "p2", 0.1f, 1, 0), Instant.now());
        a.onScore(score("x3", "p3", 0.1f, 0, 1), Instant.now());
        // b's case is a neighbour for a's next image, although a never consumed b's score.
        SimilarityProcessor.Result r = a.onScore(score("x4", "p4", 0.1f, 1, 1), Instant.now());
        assertThat(r.neighbours().getNeighbours()).extracting(n -> n.getImageId())
                .containsExactlyInAnyOrder("x1", "x2", "x3");
        // Both instances answer the API alike.
        assertThat(ids(a.similarTo("x1", 4, 0).orElseThrow())).isEqualTo(ids(b.similarTo("x1", 4, 0).orElseThrow()));
        // A label consumed by one instance changes the other's vote.
        assertThat(b.onLabel(CxrLabel.newBuilder().setImageId("x2").setPositive(true).setTest("PCR")
                .setObservedAt(Instant.now()).build())).isEqualTo(1);
        assertThat(a.caseOf("x2").orElseThrow().confirmedPositive()).isTrue();
        // A label for an image that is no case yet reaches nothing now, and is held for it.
        assertThat(b.onLabel(CxrLabel.newBuilder().setImageId("x9").setPositive(true).setTest("PCR")
                .setObservedAt(Instant.now()).build())).isZero();
        a.onScore(score("x9", "p9", 0.1f, 9, 9), Instant.now());
        assertThat(b.caseOf("x9").orElseThrow().confirmedPositive()).as("taken when the case came").isTrue();
        // A patient's PCR before the X-ray: the patient's later image is confirmed too.
        b.onLabel(CxrLabel.newBuilder().setPatientRef("p10").setPositive(false).setTest("PCR")
                .setObservedAt(Instant.now()).build());
        a.onScore(score("x10", "p10", 0.9f, 8, 8), Instant.now());
        assertThat(a.caseOf("x10").orElseThrow().confirmedPositive()).isFalse();
    }

    @Test
    void aRestartOpensTheIndexSnapshotAndReadsOnlyTheChangesSince(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        CaseStore store = new CaseStore(redis, prefix);
        store.markIntact();
        try (HnswNeighbourIndex index = new HnswNeighbourIndex(100, dir)) {
            SimilarityProcessor first = processor(index);
            first.rebuildIndex();
            first.onScore(score("a", "p1", 0.1f, 0, 0), Instant.now());
            first.onScore(score("b", "p2", 0.1f, 1, 0), Instant.now());
            first.snapshot();
        }
        // While this instance is down another one stores a case and a label arrives.
        SimilarityProcessor other = processor(new ExactNeighbourIndex());
        other.rebuildIndex();
        other.onScore(score("c", "p3", 0.1f, 0, 1), Instant.now());
        other.onLabel(CxrLabel.newBuilder().setImageId("a").setPositive(true).setTest("PCR")
                .setObservedAt(Instant.now()).build());
        try (HnswNeighbourIndex index = new HnswNeighbourIndex(100, dir)) {
            assertThat(index.size()).isEqualTo(2); // from the snapshot
            SimilarityProcessor restarted = processor(index);
            assertThat(restarted.rebuildIndex()).isEqualTo(3);
            assertThat(index.get("a").orElseThrow().confirmedPositive()).isTrue();
        }
        // A snapshot of another store generation (Redis lost its data) is not trusted.
        redis.del(prefix + "store-intact");
        store.markIntact();
        try (HnswNeighbourIndex index = new HnswNeighbourIndex(100, dir)) {
            processor(index).rebuildIndex();
            assertThat(index.size()).isEqualTo(3); // everything read again from the store
        }
    }

    private static List<String> ids(List<NeighbourIndex.Hit> hits) {
        return hits.stream().map(h -> h.record().imageId()).toList();
    }

    private static CxrScore atSite(CxrScore score, String site) {
        return CxrScore.newBuilder(score).setSiteId(site).build();
    }

    @Test
    void anAlertNamesEverySiteItsImagesCameFromAndKeepsThemAfterRedisLostItsData() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        CxrAlert opened = p.onScore(atSite(score("a", "p1", 0.9f, 0, 0), "site-b"), Instant.now()).alert();
        assertThat(opened.getSites()).containsExactly("site-b");
        CxrAlert elsewhere = p.onScore(atSite(score("b", "p1", 0.9f, 0, 1), "site-a"), Instant.now()).alert();
        assertThat(elsewhere.getEvent()).isEqualTo(AlertEvent.UPDATED);
        assertThat(elsewhere.getSiteId()).isEqualTo("site-a");
        assertThat(elsewhere.getSites()).containsExactly("site-a", "site-b");
        // A replay of the same image names the same sites.
        assertThat(p.onScore(atSite(score("b", "p1", 0.9f, 0, 1), "site-a"), Instant.now()).alert().getSites())
                .containsExactly("site-a", "site-b");

        redis.del(new ArrayList<>(redis.keys(prefix + "*")).toArray(String[]::new)); // Redis lost its data
        SimilarityProcessor after = processor(new ExactNeighbourIndex());
        after.restoreAlert(opened, Instant.now());
        after.restoreAlert(elsewhere, Instant.now());
        CxrAlert third = after.onScore(atSite(score("c", "p1", 0.9f, 0, 2), "site-c"), Instant.now()).alert();
        assertThat(third.getAlertId()).isEqualTo(opened.getAlertId());
        assertThat(third.getSites()).containsExactly("site-a", "site-b", "site-c");
        assertThat(third.getImageCount()).isEqualTo(3);
    }

    @Test
    void restoresCasesAndOpenAlertsAfterRedisLostItsData() {
        SimilarityProcessor before = processor(new ExactNeighbourIndex());
        CxrScore a = score("a", "p1", 0.9f, 0, 0);
        CxrScore b = score("b", "p2", 0.1f, 1, 0);
        SimilarityProcessor.Result opened = before.onScore(a, Instant.now());
        before.onScore(b, Instant.now());
        List<String> keys = new ArrayList<>(redis.keys(prefix + "*"));
        redis.del(keys.toArray(String[]::new)); // Redis restarted without persistence

        SimilarityProcessor after = processor(new ExactNeighbourIndex());
        assertThat(after.restoreCase(a)).isTrue();
        assertThat(after.restoreCase(b)).isTrue();
        assertThat(after.restoreCase(a)).isFalse();
        assertThat(after.restoreAlert(opened.alert(), Instant.now())).isTrue();

        assertThat(processor(new ExactNeighbourIndex()).rebuildIndex()).isEqualTo(2);
        // The patient's alert is open again: a later positive image updates it rather than opening a second one.
        CxrAlert later = after.onScore(score("c", "p1", 0.95f, 0, 1), Instant.now()).alert();
        assertThat(later.getEvent()).isEqualTo(AlertEvent.UPDATED);
        assertThat(later.getAlertId()).isEqualTo(opened.alert().getAlertId());
        // An alert whose window has passed is not restored.
        SimilarityProcessor shortWindow = new SimilarityProcessor(new ExactNeighbourIndex(),
                new CaseStore(redis, prefix + "w:"), AlertPolicy.modelCall(), 4, Duration.ofHours(1));
        assertThat(shortWindow.restoreAlert(opened.alert(), Instant.now().plus(Duration.ofHours(2)))).isFalse();
    }

    @Test
    void rebuildsTheIndexFromRedisAndConfirmedLabelsChangeTheVote() {
        SimilarityProcessor before = processor(new ExactNeighbourIndex());
        before.onScore(score("a", "p1", 0.1f, 0, 0), Instant.now());
        before.onScore(score("b", "p2", 0.1f, 1, 0), Instant.now());
        before.onLabel(CxrLabel.newBuilder().setPatientRef("p1").setPositive(true).setTest("PCR")
                .setObservedAt(Instant.now()).build());

        ExactNeighbourIndex fresh = new ExactNeighbourIndex();
        SimilarityProcessor after = processor(fresh);
        assertThat(after.rebuildIndex()).isEqualTo(2);
        SimilarityProcessor.Result r = after.onScore(score("q", "p9", 0.1f, 0, 0), Instant.now());

        assertThat(r.neighbours().getNeighbours().get(0).getImageId()).isEqualTo("a");
        assertThat(r.neighbours().getNeighbours().get(0).getLabelSource()).isEqualTo(LabelSource.CONFIRMED);
        assertThat(r.neighbours().getNeighbours().get(0).getPositive()).isTrue();
        assertThat(r.neighbours().getKnnVote()).isEqualTo(0.5f);
    }

    @Test
    void aColdRebuildIndexesEveryStoredCaseWhileReadingTheNextBatch() {
        CaseStore store = new CaseStore(redis, prefix);
        List<CaseRecord> cases = new ArrayList<>();
        for (int i = 0; i < 2_503; i++) {
            cases.add(new CaseRecord("i" + i, "p" + (i / 3), "s", i, 0.5f, false, new float[] {i, i % 7}, null));
        }
        store.saveAll(cases);
        List<Integer> progress = new ArrayList<>();
        try (HnswNeighbourIndex index = new HnswNeighbourIndex()) {
            // Batches of 100: 26 hand-overs, the last one partial.
            assertThat(SimilarityProcessor.loadInto(store, index, 100, 1_000, true, progress::add)).isEqualTo(2_503);
            assertThat(index.size()).isEqualTo(2_503);
            assertThat(index.get("i2502")).map(CaseRecord::embedding).hasValueSatisfying(
                    e -> assertThat(e).containsExactly(2502f, 2502 % 7));
            assertThat(index.search(new float[] {1200.2f, 3}, 1, null)).extracting(h -> h.record().imageId())
                    .containsExactly("i1200");
        }
        assertThat(progress).containsExactly(1_000, 2_000);
    }

    @Test
    void anImagePublishedTwiceUnderOneIdAlertsOnceAndAReplayedRecordGetsItsEventAgain() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        CxrAlert opened = p.onScore(score("a", "p1", 0.9f, 0, 0), "cxr.scores.v1-0@1", Instant.now()).alert();
        CxrAlert updated = p.onScore(score("b", "p1", 0.9f, 1, 0), "cxr.scores.v1-2@4", Instant.now()).alert();

        SimilarityProcessor.Result replayed = p.onScore(score("a", "p1", 0.9f, 0, 0), "cxr.scores.v1-0@1",
                Instant.now());
        SimilarityProcessor.Result secondCopy = p.onScore(score("a", "p1", 0.9f, 0, 0), "cxr.scores.v1-0@9",
                Instant.now());
        SimilarityProcessor.Result secondUpdate = p.onScore(score("b", "p1", 0.9f, 1, 0), "cxr.scores.v1-2@7",
                Instant.now());

        assertThat(replayed.alert().getAlertId()).isEqualTo(opened.getAlertId());
        assertThat(replayed.alert().getEvent()).isEqualTo(AlertEvent.OPENED);
        assertThat(secondCopy.alert()).as("its alert event went out with its first record").isNull();
        assertThat(secondCopy.neighbours()).isNotNull();
        assertThat(secondUpdate.alert()).isNull();
        assertThat(updated.getEvent()).isEqualTo(AlertEvent.UPDATED);
    }

    @Test
    void afterRedisLostItsDataACopyOfAnImageWhoseAlertEventWentOutStillAlertsNoMore() {
        Instant now = Instant.now();
        CxrAlert opened = processor(new ExactNeighbourIndex()).onScore(score("a", "p1", 0.9f, 0, 0),
                "cxr.scores.v1-0@1", now).alert();
        cleanUp();
        connect(); // an empty namespace: Redis lost its data
        SimilarityProcessor recovered = processor(new ExactNeighbourIndex());
        recovered.restoreCase(score("a", "p1", 0.9f, 0, 0));
        recovered.restoreAlert(opened, now);

        assertThat(recovered.onScore(score("a", "p1", 0.9f, 0, 0), "cxr.scores.v1-0@9", now).alert()).isNull();
        assertThat(recovered.onScore(score("b", "p1", 0.9f, 1, 0), "cxr.scores.v1-1@2", now).alert().getEvent())
                .isEqualTo(AlertEvent.UPDATED);
    }

    @Test
    void aRecordThatNoLongerAlertsWhenReplayedLetsACopyOfTheImageAlert() {
        // Neighbours must agree: the vote can change between an aborted attempt and its replay.
        SimilarityProcessor p = new SimilarityProcessor(new ExactNeighbourIndex(), new CaseStore(redis, prefix),
                new AlertPolicy(Double.NaN, true, 0.5), 4, Duration.ofHours(1));
        assertThat(p.onScore(score("a", "p1", 0.9f, 0, 0), "cxr.scores.v1-0@1", Instant.now()).alert()).isNotNull();
        // The replay of @1 now sees negative neighbours (stored meanwhile) and does not alert.
        p.onScore(score("n1", "p2", 0.1f, 0.1f, 0), Instant.now());
        p.onScore(score("n2", "p3", 0.1f, 0.2f, 0), Instant.now());
        assertThat(p.onScore(score("a", "p1", 0.9f, 0, 0), "cxr.scores.v1-0@1", Instant.now()).alert()).isNull();
        // Its neighbours turn positive again (confirmed outcomes): the copy @9 raises the alert @1 never committed.
        for (String n : List.of("n1", "n2")) {
            p.onLabel(CxrLabel.newBuilder().setImageId(n).setPositive(true).setTest("PCR").setObservedAt(Instant.now())
                    .build());
        }

        CxrAlert raised = p.onScore(score("a", "p1", 0.9f, 0, 0), "cxr.scores.v1-0@9", Instant.now()).alert();
        assertThat(raised).as("the image still alerts once").isNotNull();
        assertThat(raised.getEvent()).isEqualTo(AlertEvent.OPENED);
    }
}
