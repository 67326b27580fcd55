package org.cxrtriage.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class AlertBoardTest {

    private static final Predicate<String> ALL = s -> true;

    private static DashboardAlert alert(String id, String site, long lastSeen) {
        return alert(id, site, lastSeen, List.of());
    }

    private static DashboardAlert alert(String id, String site, long lastSeen, List<DashboardAlert.SimilarCase> n) {
        return new DashboardAlert(id, "p-" + id, site, "img-" + id + "-" + lastSeen, 0.9, 0.75, n, 1_000, lastSeen,
                lastSeen, "probability >= 0.5", null, 1);
    }

    private static List<String> ids(List<AlertBoard.Entry> entries) {
        return entries.stream().map(e -> e.alert().alertId()).toList();
    }

    @Test
    void keepsNewestFirstAndUpsertsByAlertId() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(alert("a", "ED-NORTH", 1_000));
        board.upsert(alert("b", "ED-SOUTH", 2_000));
        board.upsert(alert("c", "ED-NORTH", 3_000));
        assertThat(ids(board.list(ALL, null, 10))).containsExactly("c", "b", "a");

        // A later image of patient a: same alert id, newer lastSeen -> replaces it and moves it to the top.
        AlertBoard.Entry updated = board.upsert(alert("a", "ED-NORTH", 4_000)).orElseThrow();
        assertThat(updated.alert().imageId()).isEqualTo("img-a-4000");
        assertThat(board.size()).isEqualTo(3);
        assertThat(ids(board.list(ALL, null, 10))).containsExactly("a", "c", "b");
        assertThat(ids(board.list(ALL, null, 2))).containsExactly("a", "c");
    }

    @Test
    void ignoresReplaysAndOlderVersions() {
        AlertBoard board = new AlertBoard(10);
        AlertBoard.Entry first = board.upsert(alert("a", "ED-NORTH", 2_000)).orElseThrow();
        assertThat(board.upsert(alert("a", "ED-NORTH", 2_000))).isEmpty();
        assertThat(board.upsert(alert("a", "ED-NORTH", 1_000))).isEmpty();
        assertThat(board.get("a").orElseThrow()).isEqualTo(first);
        assertThat(board.version()).isEqualTo(first.version());
    }

    @Test
    void keepsOnlyTheNewestAlerts() {
        AlertBoard board = new AlertBoard(2);
        board.upsert(alert("a", "X", 1_000));
        board.upsert(alert("b", "X", 2_000));
        board.upsert(alert("c", "X", 3_000));
        assertThat(ids(board.list(ALL, null, 10))).containsExactly("c", "b");
        assertThat(board.get("a")).isEmpty();
        // Older than everything kept: not shown, and no change to announce.
        assertThat(board.upsert(alert("z", "X", 500))).isEmpty();
        assertThat(board.size()).isEqualTo(2);
    }

    @Test
    void filtersBySiteAndByWhatTheTokenMaySee() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(alert("a", "ED-NORTH", 1_000));
        board.upsert(alert("b", "ED-SOUTH", 2_000));
        board.upsert(alert("c", "ED-NORTH", 3_000));
        assertThat(ids(board.list(ALL, "ED-NORTH", 10))).containsExactly("c", "a");
        Predicate<String> southOnly = "ED-SOUTH"::equals;
        assertThat(ids(board.list(southOnly, null, 10))).containsExactly("b");
        assertThat(board.list(southOnly, "ED-NORTH", 10)).isEmpty();
        assertThat(board.sites(ALL)).containsExactly("ED-NORTH", "ED-SOUTH");
        assertThat(board.sites(southOnly)).containsExactly("ED-SOUTH");
    }

    @Test
    void anAlertStaysInTheViewOfEverySiteItsPatientWasImagedAt() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(alert("a", "ED-NORTH", 1_000));
        // The patient's next positive image comes from another site; this event (as written before alerts named
        // their sites) names only that one, and the board still keeps the first.
        AlertBoard.Entry moved = board.upsert(alert("a", "ED-SOUTH", 2_000)).orElseThrow();
        assertThat(moved.alert().siteId()).isEqualTo("ED-SOUTH");
        assertThat(moved.alert().sites()).containsExactly("ED-NORTH", "ED-SOUTH");
        Predicate<String> northOnly = "ED-NORTH"::equals;
        assertThat(ids(board.list(northOnly, null, 10))).containsExactly("a");
        assertThat(ids(board.list(ALL, "ED-NORTH", 10))).containsExactly("a");
        assertThat(ids(board.list(ALL, "ED-SOUTH", 10))).containsExactly("a");
        assertThat(board.list("ED-WEST"::equals, null, 10)).isEmpty();
        assertThat(board.sites(northOnly)).containsExactly("ED-NORTH");
        assertThat(board.showsImage("img-a-2000", northOnly)).isTrue();
        // An event that names its sites is taken as it is.
        DashboardAlert named = new DashboardAlert("b", "p-b", "ED-WEST", "img-b", 0.9, 0.75, List.of(), 1_000, 3_000,
                1_000, "probability >= 0.5", "img-b0", 2, List.of("ED-EAST"));
        assertThat(board.upsert(named).orElseThrow().alert().sites()).containsExactly("ED-EAST", "ED-WEST");
        assertThat(board.sites(ALL)).containsExactly("ED-EAST", "ED-NORTH", "ED-SOUTH", "ED-WEST");
    }

    @Test
    void acknowledgesAndKeepsTheAckThroughUpdates() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(alert("a", "ED-NORTH", 1_000));
        AlertBoard.Entry acked = board.acknowledge(new Acknowledgement("a", "token:ED-NORTH:0badcafe", 1_500, null))
                .orElseThrow();
        assertThat(acked.acknowledged()).isTrue();
        assertThat(acked.updatedSinceAck()).isFalse();
        // The same acknowledgement replayed, or an older one: nothing changes.
        assertThat(board.acknowledge(new Acknowledgement("a", "token:ED-NORTH:0badcafe", 1_500, null))).isEmpty();
        assertThat(board.acknowledge(new Acknowledgement("a", "token:*:12345678", 1_200, null))).isEmpty();

        AlertBoard.Entry updated = board.upsert(alert("a", "ED-NORTH", 2_000)).orElseThrow();
        assertThat(updated.acknowledged()).isTrue();
        assertThat(updated.updatedSinceAck()).isTrue();
        AlertBoard.Entry again = board.acknowledge(new Acknowledgement("a", "token:*:12345678", 2_500, "isolated"))
                .orElseThrow();
        assertThat(again.ack().note()).isEqualTo("isolated");
        assertThat(again.updatedSinceAck()).isFalse();
        assertThat(again.version()).isGreaterThan(updated.version());
    }

    @Test
    void anAckThatArrivesBeforeItsAlertIsAppliedWhenTheAlertComes() {
        AlertBoard board = new AlertBoard(10);
        assertThat(board.acknowledge(new Acknowledgement("a", "token:*:12345678", 1_500, null))).isEmpty();
        assertThat(board.size()).isZero();
        AlertBoard.Entry e = board.upsert(alert("a", "ED-NORTH", 1_000)).orElseThrow();
        assertThat(e.acknowledged()).isTrue();
        assertThat(e.ack().acknowledgedBy()).isEqualTo("token:*:12345678");
    }

    @Test
    void theNewestAcknowledgementsNoteIsShownWithWhoAndWhen() {
        AlertBoard board = new AlertBoard(10);
        // A note that comes with an acknowledgement read before its alert stays with it.
        board.acknowledge(new Acknowledgement("a", "token:*:12345678", 1_500, "patient moved to isolation bay 3"));
        AlertBoard.Entry e = board.upsert(alert("a", "ED-NORTH", 1_000)).orElseThrow();
        assertThat(e.ack()).isEqualTo(
                new Acknowledgement("a", "token:*:12345678", 1_500, "patient moved to isolation bay 3"));

        // After the patient's next image, a new acknowledgement without a note replaces the old one and its note.
        board.upsert(alert("a", "ED-NORTH", 2_000));
        AlertBoard.Entry again = board.acknowledge(new Acknowledgement("a", "token:ED-NORTH:0badcafe", 2_500, null))
                .orElseThrow();
        assertThat(again.ack().note()).isNull();
        assertThat(again.ack().acknowledgedBy()).isEqualTo("token:ED-NORTH:0badcafe");
        // A replay of the older acknowledgement does not bring its note back.
        assertThat(board.acknowledge(
                new Acknowledgement("a", "token:*:12345678", 1_500, "patient moved to isolation bay 3"))).isEmpty();
        assertThat(board.get("a").orElseThrow().ack().note()).isNull();
    }

    @Test
    void showsTheAlertImageAndItsNeighboursOnlyToThoseWhoMaySeeTheAlert() {
        AlertBoard board = new AlertBoard(10);
        var neighbour = new DashboardAlert.SimilarCase("old-img", "p-other", "ED-SOUTH", 0.3, 0.8, true, true);
        board.upsert(alert("a", "ED-NORTH", 1_000, List.of(neighbour)));
        assertThat(board.showsImage("img-a-1000", "ED-NORTH"::equals)).isTrue();
        assertThat(board.showsImage("old-img", "ED-NORTH"::equals)).isTrue();
        assertThat(board.showsImage("old-img", "ED-WEST"::equals)).isFalse();
        assertThat(board.showsImage("unknown", ALL)).isFalse();
    }

    @Test
    void aRetractionKeepsWhatTheAlertShowsWithTheImagesAndSitesLeftAndWithdrawsItWhenNoneIsLeft() {
        AlertBoard board = new AlertBoard(10);
        DashboardAlert a = new DashboardAlert("a", "p-a", "ED-B", "img-b", 0.9, 0.75, List.of(), 1_000, 5_000, 1_000,
                "probability >= 0.5", "img-a", 3, List.of("ED-A", "ED-B"));
        board.upsert(a);
        board.acknowledge(new Acknowledgement("a", "token:ED-A:00000000", 6_000, null));
        assertThat(board.showsImage("img-b", s -> s.equals("ED-B"))).isTrue();

        // ED-B sent its image to the wrong patient: the alert is ED-A's alone from now on.
        AlertBoard.Entry fewer = board.retract("a", "img-b", 2, "image retracted by its site (WRONG_PATIENT)",
                List.of("ED-A"), 0).orElseThrow();
        assertThat(fewer.alert().imageCount()).isEqualTo(2);
        assertThat(fewer.alert().withdrawn()).isFalse();
        assertThat(fewer.alert().sites()).containsExactly("ED-A");
        assertThat(fewer.alert().siteId()).isEqualTo("ED-A");
        assertThat(fewer.alert().rule()).contains("retracted");
        assertThat(fewer.alert().imageWithdrawn()).as("the image shown was the one retracted").isTrue();
        assertThat(fewer.updatedSinceAck()).as("a retraction is no new image").isFalse();
        assertThat(board.list(s -> s.equals("ED-B"), null, 10)).isEmpty();
        assertThat(board.showsImage("img-b", s -> true)).as("the withdrawn picture").isFalse();
        // A later image keeps the sites left (events only add sites up).
        board.upsert(new DashboardAlert("a", "p-a", "ED-A", "img-c", 0.9, 0.75, List.of(), 1_000, 7_000, 1_000,
                "probability >= 0.5", "img-a", 3, List.of("ED-A")));
        assertThat(board.get("a").orElseThrow().alert().sites()).containsExactly("ED-A");

        AlertBoard.Entry withdrawn = board.retract("a", "img-c", 0, "image retracted by its site (OTHER)",
                List.of("ED-A"), 0).orElseThrow();
        assertThat(withdrawn.alert().withdrawn()).isTrue();
        assertThat(board.get("a")).get().extracting(e -> e.alert().withdrawn()).isEqualTo(true);
        assertThat(board.retract("not-shown", "img-x", 0, "r", List.of(), 0)).isEmpty();
        assertThat(board.retract("a", "img-c", 0, "image retracted by its site (OTHER)", List.of("ED-A"), 0))
                .as("nothing changed").isEmpty();
    }

    @Test
    void aSiteWithNoImageLeftLeavesTheAlertAlsoAfterTheShownImageWasWithdrawn() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(new DashboardAlert("a", "p-a", "S3", "x3", 0.9, 0.75, List.of(), 1_000, 5_000, 1_000, "r", "x1", 3,
                List.of("S1", "S2", "S3")));
        board.retract("a", "x3", 2, "image retracted by its site (OTHER)", List.of("S1", "S2"), 0);

        DashboardAlert after = board.retract("a", "x1", 1, "image retracted by its site (WRONG_PATIENT)",
                List.of("S2"), 0).orElseThrow().alert();

        assertThat(after.sites()).containsExactly("S2");
        assertThat(after.siteId()).isEqualTo("S2");
        assertThat(board.list(s -> s.equals("S1"), null, 10)).isEmpty();
    }

    @Test
    void aRetractionOfAnImageNotShownKeepsTheImageAndItsSimilarCases() {
        AlertBoard board = new AlertBoard(10);
        DashboardAlert.SimilarCase twin = new DashboardAlert.SimilarCase("img-n", "p-n", "ED-B", 0.1, 0.9, true, false);
        board.upsert(alert("a", "ED-A", 5_000, List.of(twin)));

        DashboardAlert after = board.retract("a", "img-older", 1, "image retracted by its site (OTHER)", List.of(), 0)
                .orElseThrow().alert();

        assertThat(after.imageWithdrawn()).isFalse();
        assertThat(after.neighbours()).containsExactly(twin);
        assertThat(after.sites()).as("no sites named: they stay").containsExactly("ED-A");
        assertThat(AlertMapping.json(board.get("a").orElseThrow(), s -> true)).containsEntry("imageWithdrawn", false);
    }

    @Test
    void aRetractedImageShownAsAnotherAlertsSimilarCaseIsRefused() {
        AlertBoard board = new AlertBoard(10);
        DashboardAlert.SimilarCase twin = new DashboardAlert.SimilarCase("img-n", "p-n", "ED-B", 0.1, 0.9, true, false);
        board.upsert(alert("a", "ED-A", 5_000, List.of(twin)));
        assertThat(board.showsImage("img-n", s -> s.equals("ED-A"))).isTrue();

        board.retractImage("img-n");

        assertThat(board.showsImage("img-n", s -> s.equals("ED-A"))).isFalse();
        assertThat(board.showsImage("img-a-5000", s -> s.equals("ED-A"))).isTrue();
    }

    /** An event of alert "a" of patient p-a about {@code image} as of {@code revision}. */
    private static DashboardAlert event(String image, String site, long lastSeen, int count, List<String> sites,
                                        long revision) {
        return new DashboardAlert("a", "p-a", site, image, 0.9, 0.75,
                List.of(new DashboardAlert.SimilarCase("n-" + image, "p-n", site, 0.1, 0.9, true, false)), 1_000,
                lastSeen, 1_000, "probability >= 0.5", image.equals("x1") ? null : "x1", count, sites, false,
                revision);
    }

    @Test
    void aRetractionCommittedAfterANewerJoinDoesNotBringBackAStaleCount() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(event("x1", "A", 1_000, 1, List.of("A"), 1));
        board.upsert(event("x2", "B", 2_000, 2, List.of("A", "B"), 2));
        // One instance retracts x1 (revision 3), then another joins x3 (revision 4); the second commits first.
        board.upsert(event("x3", "C", 3_000, 2, List.of("B", "C"), 4));

        assertThat(board.retract("a", "x1", 1, "image retracted by its site (WRONG_PATIENT)", List.of("B"), 3))
                .as("nothing to change: the alert shown is newer").isEmpty();

        DashboardAlert shown = board.get("a").orElseThrow().alert();
        assertThat(shown.imageCount()).isEqualTo(2);
        assertThat(shown.sites()).containsExactly("B", "C");
        assertThat(shown.imageId()).isEqualTo("x3");
        assertThat(shown.revision()).isEqualTo(4);
        assertThat(board.showsImage("x1", s -> true)).isFalse();
    }

    @Test
    void aJoinCommittedAfterANewerRetractionKeepsTheRetractionsCountAndSitesButShowsItsImage() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(event("x1", "A", 1_000, 1, List.of("A"), 1));
        // x2 joins on one instance (revision 2), x1 is retracted on another (revision 3) and commits first.
        board.retract("a", "x1", 1, "image retracted by its site (WRONG_PATIENT)", List.of("B"), 3);
        DashboardAlert withdrawn = board.get("a").orElseThrow().alert();
        assertThat(withdrawn.imageWithdrawn()).isTrue();
        assertThat(withdrawn.siteId()).isEqualTo("B");

        DashboardAlert shown = board.upsert(event("x2", "B", 2_000, 2, List.of("A", "B"), 2)).orElseThrow().alert();

        assertThat(shown.imageCount()).as("revision 3's").isEqualTo(1);
        assertThat(shown.sites()).containsExactly("B");
        assertThat(shown.imageId()).as("the alert had no image to show").isEqualTo("x2");
        assertThat(shown.imageWithdrawn()).isFalse();
        assertThat(shown.neighbours()).extracting(DashboardAlert.SimilarCase::imageId).containsExactly("n-x2");
        assertThat(shown.revision()).isEqualTo(3);
        assertThat(board.list("A"::equals, null, 10)).as("A sent x1 to the wrong patient").isEmpty();
    }

    @Test
    void revisionsOrderTheCountAndSitesWhateverTheClocksOfTheInstancesSay() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(event("x1", "A", 5_000, 1, List.of("A"), 1));

        // x2 joined later on an instance whose clock is behind: the count and sites are its event's.
        DashboardAlert shown = board.upsert(event("x2", "B", 4_990, 2, List.of("A", "B"), 2)).orElseThrow().alert();

        assertThat(shown.imageCount()).isEqualTo(2);
        assertThat(shown.sites()).containsExactly("A", "B");
        assertThat(shown.revision()).isEqualTo(2);
        assertThat(board.upsert(event("x1", "A", 5_000, 1, List.of("A"), 1))).as("older").isEmpty();
    }

    @Test
    void anOlderImagesEventProcessedAgainAtTheCurrentRevisionKeepsTheNewerImageShown() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(event("x1", "A", 1_000, 1, List.of("A"), 1));
        board.upsert(event("x2", "B", 3_000, 2, List.of("A", "B"), 2));
        board.acknowledge(new Acknowledgement("a", "token:A:00000000", 2_000, null));
        assertThat(board.get("a").orElseThrow().updatedSinceAck()).isTrue();

        // x1's OPENED event again, from a batch that aborted and was processed after x2 joined: revision 2, and the
        // time the alert opened (an OPENED event's last-seen time).
        assertThat(board.upsert(event("x1", "A", 1_000, 2, List.of("A", "B"), 2))).isEmpty();
        // The same at a higher revision (x3 joined, its event not here yet): the count and sites are taken.
        DashboardAlert after = board.upsert(event("x1", "A", 1_000, 3, List.of("A", "B", "C"), 3)).orElseThrow()
                .alert();

        assertThat(after.imageId()).isEqualTo("x2");
        assertThat(after.lastSeen()).isEqualTo(3_000);
        assertThat(after.imageCount()).isEqualTo(3);
        assertThat(after.sites()).containsExactly("A", "B", "C");
        assertThat(board.get("a").orElseThrow().updatedSinceAck()).isTrue();
    }

    @Test
    void aNewAlertWhoseImageIsKnownRetractedShowsItWithdrawn() {
        AlertBoard board = new AlertBoard(10);
        board.retractImage("x1");

        DashboardAlert shown = board.upsert(event("x1", "A", 1_000, 1, List.of("A"), 1)).orElseThrow().alert();

        assertThat(shown.imageWithdrawn()).isTrue();
        assertThat(shown.neighbours()).isEmpty();
        assertThat(board.showsImage("x1", s -> true)).isFalse();
    }

    @Test
    void whenTheImageShownIsRetractedTheNewestImageLeftIsShown() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(event("x1", "A", 1_000, 1, List.of("A"), 1));
        board.upsert(event("x2", "B", 2_000, 2, List.of("A", "B"), 2));
        board.upsert(event("x3", "A", 3_000, 3, List.of("A", "B"), 3));
        board.acknowledge(new Acknowledgement("a", "token:A:00000000", 3_500, null));

        DashboardAlert afterX3 = board.retract("a", "x3", 2, "image retracted by its site (WRONG_IMAGE)",
                List.of("A", "B"), 4).orElseThrow().alert();
        assertThat(afterX3.imageId()).isEqualTo("x2");
        assertThat(afterX3.siteId()).isEqualTo("B");
        assertThat(afterX3.lastSeen()).isEqualTo(2_000);
        assertThat(afterX3.neighbours()).extracting(DashboardAlert.SimilarCase::imageId).containsExactly("n-x2");
        assertThat(afterX3.imageWithdrawn()).isFalse();
        assertThat(afterX3.imageCount()).isEqualTo(2);
        assertThat(afterX3.rule()).contains("WRONG_IMAGE");
        assertThat(board.get("a").orElseThrow().updatedSinceAck()).isFalse();
        assertThat(board.showsImage("x3", s -> true)).isFalse();
        assertThat(board.showsImage("x2", "B"::equals)).isTrue();

        DashboardAlert afterX2 = board.retract("a", "x2", 1, "image retracted by its site (WRONG_PATIENT)",
                List.of("A"), 5).orElseThrow().alert();
        assertThat(afterX2.imageId()).isEqualTo("x1");
        assertThat(afterX2.sites()).containsExactly("A");

        DashboardAlert afterX1 = board.retract("a", "x1", 0, "image retracted by its site (OTHER)", List.of("A"), 6)
                .orElseThrow().alert();
        assertThat(afterX1.withdrawn()).isTrue();
        assertThat(afterX1.imageWithdrawn()).isTrue();
        assertThat(afterX1.neighbours()).isEmpty();
    }

    @Test
    void anImageWhoseSiteLeftTheAlertIsNotShownInPlaceOfAWithdrawnOne() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(event("x1", "A", 1_000, 1, List.of("A"), 1));
        board.upsert(event("y", "B", 2_000, 2, List.of("A", "B"), 2));
        board.upsert(event("z", "C", 3_000, 3, List.of("A", "B", "C"), 3));
        // y is retracted on one instance (revision 4), then z on another (revision 5), which commits first. The board
        // does not know yet that y is gone, but y's site is not among revision 5's: y is not shown in z's place.
        DashboardAlert afterZ = board.retract("a", "z", 1, "image retracted by its site (OTHER)", List.of("A"), 5)
                .orElseThrow().alert();
        assertThat(afterZ.imageId()).isEqualTo("x1");
        assertThat(afterZ.sites()).containsExactly("A");
        assertThat(board.showsImage("y", "A"::equals)).isFalse();
        assertThat(board.list("B"::equals, null, 10)).isEmpty();

        assertThat(board.retract("a", "y", 2, "image retracted by its site (WRONG_PATIENT)", List.of("A", "C"), 4))
                .as("older, and not about the image shown").isEmpty();
        assertThat(board.get("a").orElseThrow().alert().revision()).isEqualTo(5);
    }

    @Test
    void aRetractionOlderThanTheAlertShownStillWithdrawsTheImageItShows() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(event("x1", "A", 1_000, 1, List.of("A"), 1));
        board.upsert(event("y", "A", 2_000, 2, List.of("A"), 2));
        board.upsert(event("z", "A", 3_000, 3, List.of("A"), 3));
        // y is retracted on one instance (revision 4), then z on another (revision 5), which commits first: the
        // board does not know y is gone yet (its site is still the alert's) and shows it in z's place.
        DashboardAlert afterZ = board.retract("a", "z", 1, "image retracted by its site (OTHER)", List.of("A"), 5)
                .orElseThrow().alert();
        assertThat(afterZ.imageId()).isEqualTo("y");

        DashboardAlert afterY = board.retract("a", "y", 2, "image retracted by its site (WRONG_IMAGE)", List.of("A"), 4)
                .orElseThrow().alert();

        assertThat(afterY.imageId()).isEqualTo("x1");
        assertThat(afterY.imageCount()).as("revision 5's").isEqualTo(1);
        assertThat(afterY.revision()).isEqualTo(5);
        assertThat(board.showsImage("y", s -> true)).isFalse();
    }

    @Test
    void aLateJoinWhoseSiteIsNoLongerTheAlertsIsNotShown() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(event("x1", "A", 1_000, 1, List.of("A"), 1));
        // x2 (B) joins at revision 2 and x3 (C) at 3, x3 is retracted at 4 and x1 at 5; only revision 5 has come.
        board.retract("a", "x1", 1, "image retracted by its site (WRONG_PATIENT)", List.of("B"), 5);

        assertThat(board.upsert(event("x3", "C", 3_000, 3, List.of("A", "B", "C"), 3)))
                .as("C is not among revision 5's sites: x3 has left").isEmpty();
        assertThat(board.get("a").orElseThrow().alert().imageWithdrawn()).isTrue();
        assertThat(board.list("C"::equals, null, 10)).isEmpty();

        DashboardAlert shown = board.upsert(event("x2", "B", 2_000, 2, List.of("A", "B"), 2)).orElseThrow().alert();
        assertThat(shown.imageId()).isEqualTo("x2");
        assertThat(shown.sites()).containsExactly("B");
        assertThat(shown.imageCount()).isEqualTo(1);
    }

    @Test
    void aRetractionWithoutARevisionKeepsTheAlertsRevision() {
        AlertBoard board = new AlertBoard(10);
        board.upsert(event("x1", "A", 1_000, 1, List.of("A"), 1));
        board.upsert(event("x2", "A", 2_000, 2, List.of("A"), 2));

        DashboardAlert after = board.retract("a", "x1", 1, "image retracted by its site (OTHER)", List.of("A"), 0)
                .orElseThrow().alert();

        assertThat(after.revision()).isEqualTo(2);
        assertThat(board.upsert(event("x1", "A", 9_000, 1, List.of("A"), 1))).as("older by revision").isEmpty();
        // An event without a revision does not take the alert's away either.
        DashboardAlert unnumbered = board.upsert(event("x3", "A", 9_000, 2, List.of("A"), 0)).orElseThrow().alert();
        assertThat(unnumbered.revision()).isEqualTo(2);
    }
}
