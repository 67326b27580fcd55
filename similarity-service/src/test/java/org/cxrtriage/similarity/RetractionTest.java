package org.cxrtriage.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.schemas.AlertEvent;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.CxrRetraction;
import org.cxrtriage.schemas.CxrScore;
import org.cxrtriage.schemas.RetractionReason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/** An image its site withdrew, against a real Redis ($REDIS_URL, default 127.0.0.1:6379) in a namespace of its own. */
class RetractionTest {

    private RedisClient redis;
    private String prefix;

    @BeforeEach
    void connect() {
        redis = RedisClient.create(URI.create(System.getenv().getOrDefault(CommonKeys.REDIS_URL,
                CommonKeys.DEFAULT_REDIS_URL)));
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

    /** Alert A of the store-level recovery tests, opened by x1. */
    private static final CaseStore.OpenAlert ALERT_A = new CaseStore.OpenAlert("A", "x1", 1000, false);

    private SimilarityProcessor processor(NeighbourIndex index) {
        return new SimilarityProcessor(index, new CaseStore(redis, prefix), AlertPolicy.modelCall(), 4,
                Duration.ofHours(1));
    }

    private static CxrScore score(String image, String patient, String site, float p, float x) {
        return CxrScore.newBuilder().setImageId(image).setStudyId("s").setPatientRef(patient).setSiteId(site)
                .setProbability(p).setPositive(p >= 0.5f).setThreshold(0.5f).setModelName("m").setModelVersion("1")
                .setEmbedding(List.of(x, 0f)).setReceivedAt(Instant.EPOCH).setScoredAt(Instant.ofEpochMilli(1000))
                .setInferenceMs(1f).setBatchSize(1).build();
    }

    private static CxrRetraction retraction(String image, String patient, String site) {
        return CxrRetraction.newBuilder().setImageId(image).setPatientRef(patient).setSiteId(site)
                .setReason(RetractionReason.WRONG_PATIENT).setRetractedBy("token:" + site + ":00000000")
                .setRetractedAt(Instant.ofEpochMilli(5000)).build();
    }

    private static List<String> neighbourIds(SimilarityProcessor.Result r) {
        return r.neighbours().getNeighbours().stream().map(n -> n.getImageId()).toList();
    }

    @Test
    void aRetractedCaseIsNoLongerAnyonesNeighbourAndItsOnlyAlertIsWithdrawn() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        CxrAlert opened = p.onScore(score("wrong", "p1", "ED-A", 0.9f, 0f), Instant.now()).alert();
        p.onScore(score("other", "p2", "ED-A", 0.1f, 5f), Instant.now());
        assertThat(opened.getEvent()).isEqualTo(AlertEvent.OPENED);

        CxrAlert withdrawn = p.onRetraction(retraction("wrong", "p1", "ED-A"), "rec-wrong", Instant.now());

        assertThat(withdrawn.getEvent()).isEqualTo(AlertEvent.RETRACTED);
        assertThat(withdrawn.getAlertId()).isEqualTo(opened.getAlertId());
        assertThat(withdrawn.getImageId()).isEqualTo("wrong");
        assertThat(withdrawn.getImageCount()).isZero();
        assertThat(withdrawn.getProbability()).isEqualTo(0.9f);
        assertThat(withdrawn.getRule()).contains("WRONG_PATIENT");
        assertThat(p.caseOf("wrong")).isEmpty();
        assertThat(neighbourIds(p.onScore(score("next", "p3", "ED-A", 0.1f, 0.1f), Instant.now())))
                .containsExactly("other");
        // The patient's next positive image opens a new alert: the withdrawn one is closed.
        CxrAlert fresh = p.onScore(score("right", "p1", "ED-A", 0.9f, 9f), Instant.now()).alert();
        assertThat(fresh.getEvent()).isEqualTo(AlertEvent.OPENED);
        assertThat(fresh.getAlertId()).isNotEqualTo(opened.getAlertId());
    }

    @Test
    void anAlertWithAnotherPositiveImageStaysOpenWithOneImageFewer() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        CxrAlert opened = p.onScore(score("first", "p1", "ED-A", 0.9f, 0f), Instant.now()).alert();
        p.onScore(score("second", "p1", "ED-B", 0.8f, 1f), Instant.now());

        CxrAlert event = p.onRetraction(retraction("second", "p1", "ED-B"), "rec-second", Instant.now());

        assertThat(event.getEvent()).isEqualTo(AlertEvent.RETRACTED);
        assertThat(event.getImageCount()).isEqualTo(1);
        assertThat(event.getSites()).as("ED-B sent it to the wrong patient: no longer its alert")
                .containsExactly("ED-A");
        assertThat(event.getOpenedByImageId()).isEqualTo("first");
        CxrAlert third = p.onScore(score("third", "p1", "ED-A", 0.9f, 2f), Instant.now()).alert();
        assertThat(third.getEvent()).isEqualTo(AlertEvent.UPDATED);
        assertThat(third.getAlertId()).isEqualTo(opened.getAlertId());
        assertThat(third.getImageCount()).isEqualTo(2);
    }

    @Test
    void processedAgainAfterAnAbortedBatchItGivesTheSameEventAndANegativeImageGivesNone() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        p.onScore(score("pos", "p1", "ED-A", 0.9f, 0f), Instant.now());
        p.onScore(score("neg", "p2", "ED-A", 0.1f, 1f), Instant.now());

        CxrAlert first = p.onRetraction(retraction("pos", "p1", "ED-A"), "rec-pos", Instant.now());
        CxrAlert again = p.onRetraction(retraction("pos", "p1", "ED-A"), "rec-pos", Instant.now());

        assertThat(again.getAlertId()).isEqualTo(first.getAlertId());
        assertThat(again.getImageCount()).isEqualTo(first.getImageCount()).isZero();
        assertThat(again.getProbability()).isEqualTo(first.getProbability()).isEqualTo(0.9f);
        assertThat(again.getEvent()).isEqualTo(AlertEvent.RETRACTED);
        assertThat(p.onRetraction(retraction("neg", "p2", "ED-A"), "rec-neg", Instant.now())).isNull();
        assertThat(p.caseOf("neg")).isEmpty();
    }

    @Test
    void aScoreThatArrivesAfterItsImagesRetractionIsDroppedAndNeverRestored() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        assertThat(p.onRetraction(retraction("late", "p1", "ED-A"), "rec-late", Instant.now())).isNull();

        SimilarityProcessor.Result r = p.onScore(score("late", "p1", "ED-A", 0.9f, 0f), Instant.now());

        assertThat(r.retracted()).isTrue();
        assertThat(r.alert()).isNull();
        assertThat(p.caseOf("late")).isEmpty();
        assertThat(p.restoreCase(score("late", "p1", "ED-A", 0.9f, 0f))).isFalse();
        assertThat(p.caseOf("late")).isEmpty();
    }

    @Test
    void anotherInstanceDropsTheRetractedCaseFromItsIndexToo(@TempDir Path dir) {
        try (HnswNeighbourIndex otherIndex = new HnswNeighbourIndex(100, dir)) {
            SimilarityProcessor here = processor(new ExactNeighbourIndex());
            SimilarityProcessor there = processor(otherIndex);
            here.onScore(score("a", "p1", "ED-A", 0.9f, 0f), Instant.now());
            here.onScore(score("b", "p2", "ED-A", 0.1f, 3f), Instant.now());
            assertThat(there.caseOf("a")).isPresent();

            here.onRetraction(retraction("a", "p1", "ED-A"), "rec-a", Instant.now());

            assertThat(there.caseOf("a")).isEmpty();
            assertThat(otherIndex.size()).isEqualTo(1);
            assertThat(neighbourIds(there.onScore(score("q", "p3", "ED-A", 0.1f, 0.1f), Instant.now())))
                    .containsExactly("b");
        }
    }

    @Test
    void recoveryReplaysTheWithdrawalOfAnAlert() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        Instant now = Instant.now();
        CxrAlert opened = p.onScore(score("x", "p1", "ED-A", 0.9f, 0f), now).alert();
        CxrAlert withdrawn = p.onRetraction(retraction("x", "p1", "ED-A"), "rec-x", now);
        cleanUp();
        connect(); // an empty namespace: Redis lost its data

        SimilarityProcessor recovered = processor(new ExactNeighbourIndex());
        recovered.restoreRetraction(retraction("x", "p1", "ED-A"), "rec-x");
        assertThat(recovered.restoreCase(score("x", "p1", "ED-A", 0.9f, 0f))).isFalse();
        recovered.restoreAlert(opened, now);
        recovered.restoreAlert(withdrawn, now);

        assertThat(recovered.caseOf("x")).isEmpty();
        CxrAlert fresh = recovered.onScore(score("y", "p1", "ED-A", 0.9f, 1f), now).alert();
        assertThat(fresh.getEvent()).isEqualTo(AlertEvent.OPENED);
        assertThat(fresh.getAlertId()).isNotEqualTo(opened.getAlertId());
    }

    @Test
    void theRetractedPatientIsTheStoredCasesWhateverTheRetractionSays() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        p.onScore(score("x", "p1", "ED-A", 0.9f, 0f), Instant.now());

        CxrAlert event = p.onRetraction(retraction("x", "p-other", "ED-A"), "rec-x", Instant.now());

        assertThat(event.getPatientRef()).isEqualTo("p1");
        assertThat(event.getImageCount()).isZero();
    }

    @Test
    void aCaseOrAlertWrittenAfterItsRetractionIsRefusedAndALabelLeavesNoFragment() {
        CaseStore store = new CaseStore(redis, prefix);
        CaseRecord x = new CaseRecord("x", "p1", "ED-A", 1000, 0.9f, true, new float[] {0, 0}, null);
        store.save(x);
        long before = store.lastChange();

        store.retract("x", "p1", "rec-x");

        // An instance that checked before the retraction and writes after it (it lost its partitions unawares).
        assertThat(store.save(x)).isEqualTo(-1);
        assertThat(store.joinAlert("p1", "alert-1", "x", "ED-A", 1000, Duration.ofHours(1), Duration.ofHours(1),
                null)).isEmpty();
        assertThat(store.setConfirmed("x", true)).isFalse();
        assertThat(store.exists("x")).isFalse();
        assertThat(store.changedSince(before)).singleElement().satisfies(c -> {
            assertThat(c.imageId()).isEqualTo("x");
            assertThat(c.record()).as("removed").isNull();
        });
        assertThat(store.loadAll()).isEmpty();
    }

    @Test
    void theLastImagesRetractionNamesTheSitesTheAlertHadAndAReplayNamesTheSame() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        p.onScore(score("x", "p1", "ED-B", 0.9f, 0f), Instant.now());

        CxrAlert first = p.onRetraction(retraction("x", "p1", "ED-B"), "rec-x", Instant.now());
        CxrAlert again = p.onRetraction(retraction("x", "p1", "ED-B"), "rec-x", Instant.now());

        assertThat(first.getImageCount()).isZero();
        assertThat(first.getSites()).containsExactly("ED-B");
        assertThat(again.getSites()).isEqualTo(first.getSites());
        assertThat(redis.keys(prefix + "alert-sites:*")).as("closed with its alert").isEmpty();
    }

    @Test
    void recoveryReplaysTheSitesAnAlertWasLeftWith() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        Instant now = Instant.now();
        CxrAlert opened = p.onScore(score("a", "p1", "ED-A", 0.9f, 0f), now).alert();
        CxrAlert updated = p.onScore(score("b", "p1", "ED-B", 0.9f, 1f), now).alert();
        CxrAlert retracted = p.onRetraction(retraction("b", "p1", "ED-B"), "rec-b", now);
        assertThat(updated.getSites()).containsExactly("ED-A", "ED-B");
        cleanUp();
        connect(); // an empty namespace: Redis lost its data

        SimilarityProcessor recovered = processor(new ExactNeighbourIndex());
        recovered.restoreRetraction(retraction("b", "p1", "ED-B"), "rec-b");
        recovered.restoreCase(score("a", "p1", "ED-A", 0.9f, 0f));
        recovered.restoreAlert(opened, now);
        recovered.restoreAlert(updated, now);
        recovered.restoreAlert(retracted, now);

        CxrAlert next = recovered.onScore(score("c", "p1", "ED-A", 0.9f, 2f), now).alert();
        assertThat(next.getEvent()).isEqualTo(AlertEvent.UPDATED);
        assertThat(next.getAlertId()).isEqualTo(opened.getAlertId());
        assertThat(next.getImageCount()).isEqualTo(2);
        assertThat(next.getSites()).as("ED-B's withdrawn image no longer puts it in the alert").containsExactly("ED-A");
        assertThat(retracted.getRevision()).isEqualTo(3L);
        assertThat(next.getRevision()).as("on from the highest published").isEqualTo(4L);
    }

    @Test
    void recoveryIgnoresARetractedEventOfAnImageTheAlertNeverHeldAndKeepsTheSitesExpiring() {
        Instant now = Instant.now();
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        CxrAlert opened = p.onScore(score("x1", "p1", "S1", 0.9f, 0f), now).alert();
        // A RETRACTED event whose OPENED/UPDATED event an aborted batch held back: the alert never had x2.
        CxrAlert orphan = CxrAlert.newBuilder(opened).setImageId("x2").setSiteId("S2").setEvent(AlertEvent.RETRACTED)
                .setImageCount(1).setSites(List.of("S2")).build();
        cleanUp();
        connect();
        SimilarityProcessor recovered = processor(new ExactNeighbourIndex());
        recovered.restoreCase(score("x1", "p1", "S1", 0.9f, 0f));
        recovered.restoreAlert(opened, now);

        recovered.restoreAlert(orphan, now);

        CxrAlert next = recovered.onScore(score("x3", "p1", "S1", 0.9f, 1f), now).alert();
        assertThat(next.getAlertId()).isEqualTo(opened.getAlertId());
        assertThat(next.getSites()).as("unchanged by the orphan").containsExactly("S1");
        assertThat(next.getImageCount()).isEqualTo(2);
    }

    @Test
    void aRestoredRetractionGivesTheSitesItNamesTheAlertsRemainingWindow() {
        Instant now = Instant.now();
        CaseStore store = new CaseStore(redis, prefix);
        redis.sadd(prefix + "alert-images:A", "x1", "x2"); // restored without an expiry (an older recovery)
        redis.set(prefix + "alert:p1", "A|x1|" + now.toEpochMilli());

        store.restoreRetraction("A", "p1", "x2", 1, List.of("S1"), 3, Duration.ofMinutes(10));

        assertThat(redis.smembers(prefix + "alert-sites:A")).containsExactly("S1");
        assertThat(redis.pttl(prefix + "alert-sites:A")).isBetween(1L, Duration.ofMinutes(10).toMillis());
        assertThat(redis.smembers(prefix + "alert-images:A")).containsExactly("x1");
        assertThat(redis.get(prefix + "alert-revision:A")).as("the event's revision").isEqualTo("3");
    }

    @Test
    void aJoinRestoredAfterANewerRetractionAddsOnlyItsOwnSite() {
        CaseStore store = new CaseStore(redis, prefix);
        // x1 (S1) opened at 1, x2 (S2) joined at 2, x3 (S3) at 4; x2 was retracted at 5 on another instance, whose
        // event was committed before x3's.
        store.restoreAlertImage(ALERT_A, "x1", "S1", List.of("S1"), 1, Duration.ofMinutes(10));
        store.restoreAlertImage(ALERT_A, "x2", "S2", List.of("S1", "S2"), 2, Duration.ofMinutes(10));
        store.restoreRetraction("A", "p1", "x2", 1, List.of("S1", "S3"), 5, Duration.ofMinutes(10));
        CaseStore.AlertImages after = store.restoreAlertImage(ALERT_A, "x3", "S3", List.of("S1", "S2", "S3"), 4,
                Duration.ofMinutes(10));

        assertThat(after.sites()).as("S2 sent x2 to the wrong patient").containsExactly("S1", "S3");
        assertThat(after.count()).isEqualTo(2);
        assertThat(after.revision()).isEqualTo(5);
    }

    @Test
    void aJoinRestoredBeforeAnOlderRetractionTakesItsSitesWhole() {
        CaseStore store = new CaseStore(redis, prefix);
        // x1 (S1) opened at 1, x2 (S2) joined at 2; x2 was retracted at 3 on one instance (sites S1), then x3 (S3)
        // joined at 4 on another (sites S1, S3), whose event was committed first.
        store.restoreAlertImage(ALERT_A, "x1", "S1", List.of("S1"), 1, Duration.ofMinutes(10));
        store.restoreAlertImage(ALERT_A, "x2", "S2", List.of("S1", "S2"), 2, Duration.ofMinutes(10));
        store.restoreAlertImage(ALERT_A, "x3", "S3", List.of("S1", "S3"), 4, Duration.ofMinutes(10));
        store.restoreRetraction("A", "p1", "x2", 1, List.of("S1"), 3, Duration.ofMinutes(10));

        assertThat(redis.smembers(prefix + "alert-sites:A")).as("S2 sent x2 to the wrong patient")
                .containsExactlyInAnyOrder("S1", "S3");
        assertThat(redis.smembers(prefix + "alert-images:A")).containsExactlyInAnyOrder("x1", "x3");
        assertThat(redis.get(prefix + "alert-revision:A")).isEqualTo("4");
    }

    @Test
    void restoredRetractionsCommittedOutOfOrderKeepTheNewerSitesAndNeverLowerTheRevision() {
        Instant now = Instant.now();
        CaseStore store = new CaseStore(redis, prefix);
        redis.sadd(prefix + "alert-images:A", "x1", "x2", "x3");
        redis.sadd(prefix + "alert-sites:A", "S1", "S2", "S3");
        redis.set(prefix + "alert:p1", "A|x1|" + now.toEpochMilli());
        // x2 left at revision 4 (sites S1, S3), x3 at 5 (S1); the event of 5 was committed first.
        store.restoreRetraction("A", "p1", "x3", 1, List.of("S1"), 5, Duration.ofMinutes(10));
        store.restoreRetraction("A", "p1", "x2", 2, List.of("S1", "S3"), 4, Duration.ofMinutes(10));

        assertThat(redis.smembers(prefix + "alert-images:A")).containsExactly("x1");
        assertThat(redis.smembers(prefix + "alert-sites:A")).as("revision 5's").containsExactly("S1");
        assertThat(redis.get(prefix + "alert-revision:A")).isEqualTo("5");

        // A RETRACTED event of an image the alert never held (its joining event was aborted) still counted.
        store.restoreRetraction("A", "p1", "x9", 1, List.of("S1"), 7, Duration.ofMinutes(10));
        assertThat(redis.get(prefix + "alert-revision:A")).isEqualTo("7");
        assertThat(redis.pttl(prefix + "alert-revision:A")).isBetween(1L, Duration.ofMinutes(10).toMillis());
    }

    @Test
    void everyImageJoiningOrLeavingAnAlertRaisesItsRevisionAndAReplayGivesTheCurrentOne() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        CxrAlert opened = p.onScore(score("a", "p1", "ED-A", 0.9f, 0f), "scores-0@1", Instant.now()).alert();
        CxrAlert updated = p.onScore(score("b", "p1", "ED-B", 0.9f, 1f), "scores-1@1", Instant.now()).alert();
        CxrAlert retracted = p.onRetraction(retraction("b", "p1", "ED-B"), "retractions-1@1", Instant.now());
        CxrAlert third = p.onScore(score("c", "p1", "ED-C", 0.9f, 2f), "scores-0@2", Instant.now()).alert();

        assertThat(List.of(opened, updated, retracted, third)).extracting(CxrAlert::getRevision)
                .containsExactly(1L, 2L, 3L, 4L);
        // Processed again after an abort, each gives the alert as it is now (the count and sites of revision 4),
        // or, for the retraction, what it did then (revision 3 and its count).
        CxrAlert replayed = p.onScore(score("a", "p1", "ED-A", 0.9f, 0f), "scores-0@1", Instant.now()).alert();
        assertThat(replayed.getRevision()).isEqualTo(4L);
        CxrAlert updatedAgain = p.onScore(score("b", "p1", "ED-B", 0.9f, 1f), "scores-1@1",
                Instant.now().plusSeconds(60)).alert();
        assertThat(updatedAgain).as("b was retracted").isNull();
        CxrAlert thirdAgain = p.onScore(score("c", "p1", "ED-C", 0.9f, 2f), "scores-0@2",
                Instant.now().plusSeconds(60)).alert();
        assertThat(thirdAgain.getRevision()).isEqualTo(4L);
        assertThat(replayed.getImageCount()).isEqualTo(third.getImageCount());
        assertThat(replayed.getSites()).isEqualTo(third.getSites());
        CxrAlert again = p.onRetraction(retraction("b", "p1", "ED-B"), "retractions-1@1", Instant.now());
        assertThat(again.getRevision()).isEqualTo(3L);
        assertThat(again.getImageCount()).isEqualTo(retracted.getImageCount());

        CxrAlert last = p.onRetraction(retraction("a", "p1", "ED-A"), "retractions-0@1", Instant.now());
        CxrAlert withdrawn = p.onRetraction(retraction("c", "p1", "ED-C"), "retractions-0@2", Instant.now());
        assertThat(last.getRevision()).isEqualTo(5L);
        assertThat(withdrawn.getRevision()).isEqualTo(6L);
        assertThat(withdrawn.getImageCount()).isZero();
        assertThat(redis.keys(prefix + "alert-revision:*")).as("closed with its alert").isEmpty();
    }

    @Test
    void aRetractionSentTwiceChangesTheAlertOnceAndPublishesOnce() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        p.onScore(score("w", "p1", "ED-A", 0.9f, 0f), Instant.now());
        p.onScore(score("x", "p1", "ED-B", 0.9f, 1f), Instant.now());
        CxrAlert first = p.onRetraction(retraction("x", "p1", "ED-B"), "retractions-0@7", Instant.now());
        CxrAlert joined = p.onScore(score("y", "p1", "ED-C", 0.9f, 2f), Instant.now()).alert();
        assertThat(first.getImageCount()).isEqualTo(1);
        assertThat(joined.getSites()).containsExactly("ED-A", "ED-C");

        assertThat(p.onRetraction(retraction("x", "p1", "ED-B"), "retractions-0@9", Instant.now()))
                .as("a second record of the same retraction: nothing more, nothing stale").isNull();
        assertThat(p.onRetraction(retraction("x", "p1", "ED-B"), "retractions-0@7", Instant.now()).getImageCount())
                .as("the first record replayed: its own event").isEqualTo(1);
        CxrAlert next = p.onScore(score("z", "p1", "ED-A", 0.9f, 3f), Instant.now()).alert();
        assertThat(next.getImageCount()).isEqualTo(3);
        assertThat(next.getSites()).containsExactly("ED-A", "ED-C");
    }

    @Test
    void aScoreOfAnotherModelForARetractedImageIsDroppedToo() {
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        p.onScore(score("a", "p1", "ED-A", 0.1f, 0f), Instant.now()); // the store's model: "m:1"
        p.onRetraction(retraction("b", "p2", "ED-A"), "rec-b", Instant.now());
        CxrScore other = CxrScore.newBuilder(score("b", "p2", "ED-A", 0.9f, 0f)).setModelVersion("2").build();

        SimilarityProcessor.Result r = p.onScore(other, Instant.now());

        assertThat(r.retracted()).isTrue();
        assertThat(r.alert()).isNull();
    }

    /** A processor whose alerts close after {@code window} and keep their images for {@code retractable}. */
    private SimilarityProcessor processor(Duration window, Duration retractable) {
        return new SimilarityProcessor(new ExactNeighbourIndex(), new CaseStore(redis, prefix),
                AlertPolicy.modelCall(), 4, window, retractable);
    }

    private void awaitClosed(String patient) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (redis.exists(prefix + "alert:" + patient)) {
            assertThat(System.nanoTime()).as("the alert window ran out").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void anImageRetractedAfterItsAlertClosedLeavesThatAlertAndNotThePatientsNewOne() throws Exception {
        SimilarityProcessor p = processor(Duration.ofMillis(1000), Duration.ofHours(1));
        CxrAlert a = p.onScore(score("x1", "p1", "ED-A", 0.9f, 0f), Instant.now()).alert();
        p.onScore(score("x2", "p1", "ED-B", 0.9f, 1f), Instant.now());
        awaitClosed("p1");
        CxrAlert b = p.onScore(score("y1", "p1", "ED-A", 0.9f, 2f), Instant.now()).alert();
        assertThat(b.getEvent()).isEqualTo(AlertEvent.OPENED);
        assertThat(b.getAlertId()).as("a new alert once the window ran out").isNotEqualTo(a.getAlertId());

        CxrAlert x2Left = p.onRetraction(retraction("x2", "p1", "ED-B"), "rec-x2", Instant.now());
        CxrAlert x1Left = p.onRetraction(retraction("x1", "p1", "ED-A"), "rec-x1", Instant.now());

        assertThat(x2Left.getAlertId()).isEqualTo(a.getAlertId());
        assertThat(x2Left.getEvent()).isEqualTo(AlertEvent.RETRACTED);
        assertThat(x2Left.getImageCount()).isEqualTo(1);
        assertThat(x2Left.getSites()).as("ED-B sent x2 to the wrong patient").containsExactly("ED-A");
        assertThat(x2Left.getRevision()).isEqualTo(3);
        assertThat(x2Left.getOpenedByImageId()).isEqualTo("x1");
        assertThat(x2Left.getFirstSeen()).isEqualTo(a.getFirstSeen());
        assertThat(x1Left.getAlertId()).isEqualTo(a.getAlertId());
        assertThat(x1Left.getImageCount()).as("the closed alert withdrawn whole").isZero();
        assertThat(x1Left.getRevision()).isEqualTo(4);
        CxrAlert replayed = p.onRetraction(retraction("x1", "p1", "ED-A"), "rec-x1", Instant.now());
        assertThat(CxrAlert.newBuilder(replayed).setLastSeen(x1Left.getLastSeen()).build().toString())
                .as("replayed: the same event (knnVote NaN: compared as text)").isEqualTo(x1Left.toString());
        CxrAlert next = p.onScore(score("y2", "p1", "ED-C", 0.9f, 3f), Instant.now()).alert();
        assertThat(next.getAlertId()).as("the patient's open alert untouched").isEqualTo(b.getAlertId());
        assertThat(next.getEvent()).isEqualTo(AlertEvent.UPDATED);
        assertThat(next.getImageCount()).isEqualTo(2);
        assertThat(next.getRevision()).isEqualTo(2);
    }

    @Test
    void aClosedAlertsImagesAreKeptForTheRetractionWindowOnly() throws Exception {
        // Windows long enough for a slow machine to score two images inside the first.
        SimilarityProcessor p = processor(Duration.ofMillis(1000), Duration.ofMillis(3000));
        long joined = System.nanoTime();
        CxrAlert a = p.onScore(score("x1", "p1", "ED-A", 0.9f, 0f), Instant.now()).alert();
        p.onScore(score("x2", "p1", "ED-B", 0.9f, 1f), Instant.now());
        assertThat(redis.pttl(prefix + "alert:p1")).isBetween(1L, 1000L);
        assertThat(redis.pttl(prefix + "alert-of:x1")).as("longer than the alert window").isBetween(1001L, 3000L);
        assertThat(redis.pttl(prefix + "alert-images:" + a.getAlertId())).isBetween(1001L, 3000L);
        awaitClosed("p1");

        CxrAlert x2Left = p.onRetraction(retraction("x2", "p1", "ED-B"), "rec-x2", Instant.now());
        assertThat(x2Left.getAlertId()).as("after the alert window").isEqualTo(a.getAlertId());
        assertThat(x2Left.getImageCount()).isEqualTo(1);

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (redis.exists(prefix + "alert-of:x1")) { // 3 s after x1 joined
            assertThat(System.nanoTime()).as("the retraction window ran out").isLessThan(deadline);
            Thread.sleep(20);
        }
        assertThat((System.nanoTime() - joined) / 1_000_000).as("not before the retraction window")
                .isGreaterThanOrEqualTo(2900L);
        assertThat(p.onRetraction(retraction("x1", "p1", "ED-A"), "rec-x1", Instant.now()))
                .as("past the retraction window: no event").isNull();
        assertThat(CaseStore.keep(Duration.ofDays(14), Duration.ofDays(1))).isEqualTo(Duration.ofDays(14));
    }

    @Test
    void recoveryKeepsAClosedAlertsEarlierImagesAsLongAsItsLatestJoinKeepsThem() {
        Instant now = Instant.now();
        // Alert window 14 days, retraction window 30: x1 joined 32 days ago, x2 22 and x3 12 days ago.
        SimilarityProcessor p = processor(Duration.ofDays(14), Duration.ofDays(30));
        CxrAlert x1 = p.onScore(score("x1", "p1", "S1", 0.9f, 0f), now.minus(Duration.ofDays(32))).alert();
        CxrAlert x2 = p.onScore(score("x2", "p1", "S2", 0.9f, 1f), now.minus(Duration.ofDays(22))).alert();
        CxrAlert x3 = p.onScore(score("x3", "p1", "S3", 0.9f, 2f), now.minus(Duration.ofDays(12))).alert();
        assertThat(x3.getAlertId()).isEqualTo(x1.getAlertId());
        cleanUp();
        connect();

        SimilarityProcessor recovered = processor(Duration.ofDays(14), Duration.ofDays(30));
        for (String id : List.of("x1", "x2", "x3")) {
            recovered.restoreCase(score(id, "p1", "S" + id.charAt(1), 0.9f, id.charAt(1) - '1'));
        }
        for (CxrAlert e : List.of(x1, x2, x3)) {
            recovered.noteAlertJoin(e, now);
        }
        for (CxrAlert e : List.of(x1, x2, x3)) {
            recovered.restoreAlert(e, now);
        }
        recovered.forgetAlertJoins();

        CxrAlert x3Left = recovered.onRetraction(retraction("x3", "p1", "S3"), "rec-x3", now);
        assertThat(x3Left.getAlertId()).isEqualTo(x1.getAlertId());
        assertThat(x3Left.getImageCount()).as("x1 and x2 are still in it").isEqualTo(2);
        assertThat(x3Left.getSites()).containsExactly("S1", "S2");
        assertThat(x3Left.getRevision()).isEqualTo(4);
    }

    @Test
    void anImageAnAbortedAttemptPutInAnAlertClosedSinceLeavesItForTheNewOne() {
        CaseStore store = new CaseStore(redis, prefix);
        Duration window = Duration.ofHours(1);
        store.joinAlert("p1", "A", "x1", "S1", 1000, window, Duration.ofHours(1), "rec-1");
        store.joinAlert("p1", "A", "x2", "S1", 1000, window, Duration.ofHours(1), "rec-2"); // its batch aborted
        redis.del(prefix + "alert:p1"); // the window ran out meanwhile (x2's joining record, set later, still kept)

        CaseStore.JoinedAlert replayed = store.joinAlert("p1", "B", "x2", "S1", 2000, window, Duration.ofHours(1),
                "rec-2").orElseThrow();

        assertThat(replayed.alert().alertId()).isEqualTo("B");
        assertThat(redis.smembers(prefix + "alert-images:A")).containsExactly("x1");
        assertThat(redis.get(prefix + "alert-of:x2")).startsWith("B|");

        // Another score record of x1 after its joining record expired: it joins B and x1 stays in A.
        redis.del(prefix + "alerted:x1");
        store.joinAlert("p1", "C", "x1", "S1", 3000, window, Duration.ofHours(1), "rec-1-again");
        assertThat(redis.smembers(prefix + "alert-images:A")).containsExactly("x1");
    }

    @Test
    void recoveryPutsBackAClosedAlertsImagesForALateRetraction() {
        Instant now = Instant.now();
        Instant twoHoursAgo = now.minus(Duration.ofHours(2));
        SimilarityProcessor p = processor(Duration.ofMinutes(30), Duration.ofDays(1));
        CxrAlert opened = p.onScore(score("x1", "p1", "ED-A", 0.9f, 0f), twoHoursAgo).alert();
        CxrAlert updated = p.onScore(score("x2", "p1", "ED-B", 0.9f, 1f), twoHoursAgo.plusSeconds(60)).alert();
        cleanUp();
        connect(); // an empty namespace: Redis lost its data

        SimilarityProcessor recovered = processor(Duration.ofMinutes(30), Duration.ofDays(1));
        recovered.restoreCase(score("x1", "p1", "ED-A", 0.9f, 0f));
        recovered.restoreCase(score("x2", "p1", "ED-B", 0.9f, 1f));
        assertThat(recovered.restoreAlert(opened, now)).as("closed: not reopened").isFalse();
        assertThat(recovered.restoreAlert(updated, now)).isFalse();
        assertThat(redis.exists(prefix + "alert:p1")).isFalse();

        CxrAlert late = recovered.onRetraction(retraction("x2", "p1", "ED-B"), "rec-x2", now);

        assertThat(late.getAlertId()).isEqualTo(opened.getAlertId());
        assertThat(late.getImageCount()).isEqualTo(1);
        assertThat(late.getSites()).containsExactly("ED-A");
        assertThat(late.getRevision()).isEqualTo(3);
        CxrAlert fresh = recovered.onScore(score("y1", "p1", "ED-A", 0.9f, 2f), now).alert();
        assertThat(fresh.getEvent()).as("the closed alert stays closed").isEqualTo(AlertEvent.OPENED);
    }

    @Test
    void recoveryForgetsTheAlertOfAnImageWhoseRetractionWasPublished() {
        Instant now = Instant.now();
        SimilarityProcessor p = processor(new ExactNeighbourIndex());
        CxrAlert opened = p.onScore(score("x1", "p1", "ED-A", 0.9f, 0f), now).alert();
        CxrAlert updated = p.onScore(score("x2", "p1", "ED-B", 0.9f, 1f), now).alert();
        CxrAlert retracted = p.onRetraction(retraction("x2", "p1", "ED-B"), "rec-x2", now);
        cleanUp();
        connect();

        SimilarityProcessor recovered = processor(new ExactNeighbourIndex());
        recovered.restoreRetraction(retraction("x2", "p1", "ED-B"), "rec-x2");
        recovered.restoreCase(score("x1", "p1", "ED-A", 0.9f, 0f));
        recovered.restoreAlert(opened, now);
        recovered.restoreAlert(updated, now);
        recovered.restoreAlert(retracted, now);

        assertThat(redis.exists(prefix + "alert-of:x2")).isFalse();
        assertThat(redis.get(prefix + "alert-of:x1")).startsWith(opened.getAlertId() + "|x1|");
    }

    @Test
    void decidingWritesRefuseAStoreThatLostItsDataAndLeaveNothingInIt() {
        CaseStore store = new CaseStore(redis, prefix);
        store.markIntact();
        store.requireEpoch(store.epoch());
        CaseRecord x = new CaseRecord("x", "p1", "ED-A", 1000, 0.9f, true, new float[] {0, 0}, null);
        store.save(x);
        store.joinAlert("p1", "alert-1", "x", "ED-A", 1000, Duration.ofHours(1), Duration.ofHours(2), "rec-1");
        store.verifyEpoch();
        String before = store.epoch();
        cleanUp();
        connect(); // Redis lost its data (the same prefix, empty)
        CaseStore lost = new CaseStore(redis, prefix);
        lost.requireEpoch(before);

        assertThatThrownBy(() -> lost.retract("x", "p1", "rec-r"))
                .isInstanceOf(CaseStore.StoreReplacedException.class);
        assertThatThrownBy(() -> lost.save(x)).isInstanceOf(CaseStore.StoreReplacedException.class);
        assertThatThrownBy(() -> lost.joinAlert("p1", "alert-2", "x", "ED-A", 2000, Duration.ofHours(1),
                Duration.ofHours(2), "rec-2")).isInstanceOf(CaseStore.StoreReplacedException.class);
        assertThatThrownBy(() -> lost.setConfirmed("x", true)).isInstanceOf(CaseStore.StoreReplacedException.class);
        assertThatThrownBy(lost::verifyEpoch).isInstanceOf(CaseStore.StoreReplacedException.class);
        assertThat(redis.keys(prefix + "*")).as("no marker, case or alert written into the empty store").isEmpty();

        lost.markIntact(); // another instance recovered: a new generation
        assertThatThrownBy(() -> lost.retract("x", "p1", "rec-r"))
                .isInstanceOf(CaseStore.StoreReplacedException.class);
        lost.requireEpoch(lost.epoch());
        assertThat(lost.save(x)).isPositive();
    }

    @Test
    void aRecoveryDuringWhichRedisLostItsDataAgainDoesNotMarkTheStoreFilled() {
        CaseStore store = new CaseStore(redis, prefix);
        String token = store.beginRecovery();
        cleanUp();
        connect(); // lost again half-way
        CaseStore again = new CaseStore(redis, prefix);

        assertThat(again.finishRecovery(token)).isFalse();
        assertThat(again.isIntact()).isFalse();
        String next = again.beginRecovery();
        assertThat(again.finishRecovery(next)).isTrue();
        assertThat(again.isIntact()).isTrue();
        assertThat(redis.keys(prefix + "store-recovering:*")).isEmpty();
    }

    @Test
    void aRecoveryStopsWritingOnceAnotherInstanceFilledTheStoreOrRedisLostItsDataAgain() {
        CaseStore store = new CaseStore(redis, prefix);
        CaseRecord x = new CaseRecord("x", "p1", "ED-A", 1000, 0.9f, true, new float[] {0, 0}, null);
        String token = store.beginRecovery();
        store.save(x);
        store.restoreAlert("p1", "A", "x", 1000, Duration.ofHours(1));

        new CaseStore(redis, prefix).markIntact(); // another instance finished first, and processes batches

        assertThatThrownBy(() -> store.restoreAlertImage(ALERT_A, "x", "ED-A", List.of("ED-A"), 1,
                Duration.ofHours(1))).isInstanceOf(CaseStore.StoreReplacedException.class);
        assertThatThrownBy(() -> store.restoreRetraction("A", "p1", "x", 0, List.of(), 2, Duration.ofHours(1)))
                .isInstanceOf(CaseStore.StoreReplacedException.class);
        assertThatThrownBy(() -> store.restoreAlerted("x", Duration.ofHours(1)))
                .isInstanceOf(CaseStore.StoreReplacedException.class);
        assertThatThrownBy(() -> store.retract("x", "p1", "rec-x"))
                .isInstanceOf(CaseStore.StoreReplacedException.class);
        assertThat(redis.exists(prefix + "alert-images:A")).isFalse();
        store.abandonRecovery(token);
        assertThat(redis.keys(prefix + "store-recovering:*")).isEmpty();

        // Lost again half-way: the token went with the data.
        redis.del(prefix + "store-intact");
        String second = store.beginRecovery();
        redis.del(prefix + "store-recovering:" + second);
        assertThatThrownBy(() -> store.save(x)).isInstanceOf(CaseStore.StoreReplacedException.class);
        assertThatThrownBy(() -> store.restoreAlert("p1", "B", "x", 1000, Duration.ofHours(1)))
                .isInstanceOf(CaseStore.StoreReplacedException.class);
        assertThat(store.finishRecovery(second)).isFalse();
        assertThat(store.isIntact()).isFalse();
    }

    @Test
    void anIndexReloadedFromARefilledStoreForgetsWhatAnAbortedAttemptIndexed() {
        CaseStore store = new CaseStore(redis, prefix);
        store.markIntact();
        SimilarityProcessor p = new SimilarityProcessor(new ExactNeighbourIndex(), store, AlertPolicy.modelCall(), 4,
                Duration.ofHours(1));
        p.onScore(score("kept", "p0", "ED-A", 0.1f, 5f), Instant.now()); // committed: a recovery restores it
        p.onScore(score("x1", "p1", "ED-A", 0.9f, 0f), Instant.now()); // its batch then aborted
        List<String> keys = new ArrayList<>(redis.keys(prefix + "*"));
        redis.del(keys.toArray(String[]::new)); // Redis lost its data
        store.save(new CaseRecord("kept", "p0", "ED-A", 1000, 0.1f, false, new float[] {5f, 0f}, null));
        store.markIntact(); // the recovery

        assertThat(p.caseOf("x1")).as("a search answers from the index as it is: no reload on its thread")
                .isPresent();
        assertThat(p.syncIndex()).as("the loop's sync reloads it whole").isEqualTo(1);
        assertThat(p.caseOf("x1")).as("only in the aborted attempt: gone with the index reloaded").isEmpty();
        assertThat(p.indexEpoch()).isEqualTo(store.epoch());
        p.onScore(score("x1", "p1", "ED-A", 0.9f, 0f), Instant.now()); // the batch processed again

        assertThat(store.exists("x1")).as("stored again, so every instance and a rebuild have it").isTrue();
        assertThat(p.caseOf("kept")).isPresent();
    }

    @Test
    void anIndexOfAStoreRefilledSinceIsNotSnapshottedAsTheNewOnes(@TempDir Path dir) {
        CaseStore store = new CaseStore(redis, prefix);
        store.markIntact();
        try (HnswNeighbourIndex index = new HnswNeighbourIndex(100, dir)) {
            SimilarityProcessor p = new SimilarityProcessor(index, store, AlertPolicy.modelCall(), 4,
                    Duration.ofHours(1));
            p.rebuildIndex();
            p.onScore(score("x1", "p1", "ED-A", 0.9f, 0f), Instant.now()); // its batch then aborted
            List<String> keys = new ArrayList<>(redis.keys(prefix + "*"));
            redis.del(keys.toArray(String[]::new)); // Redis lost its data; another instance refilled it
            store.markIntact();

            p.snapshot(); // this instance saw no batch since: its index is of the old store
        }
        // Restarted: a snapshot labelled with the new generation would be trusted, x1 and all.
        try (HnswNeighbourIndex index = new HnswNeighbourIndex(100, dir)) {
            SimilarityProcessor restarted = new SimilarityProcessor(index, store, AlertPolicy.modelCall(), 4,
                    Duration.ofHours(1));
            assertThat(restarted.rebuildIndex()).isZero();
            assertThat(index.get("x1")).isEmpty();
        }
    }
}
