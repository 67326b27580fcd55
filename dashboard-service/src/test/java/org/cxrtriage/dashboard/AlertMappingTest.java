package org.cxrtriage.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.CxrAlertAck;
import org.junit.jupiter.api.Test;

class AlertMappingTest {

    private static final DashboardAlert ALERT = new DashboardAlert("alert-1", "p-abc", "ED-NORTH", "img-1", 0.9,
            0.75, List.of(), 1_000, 1_000, 1_000, "probability >= 0.5", null, 1);

    @Test
    void theNoteTravelsInTheEventAndComesBackWithWhoAndWhen() {
        Acknowledgement ack = new Acknowledgement("alert-1", "token:*:12345678", 1_764_000_000_000L,
                "moved to isolation");
        CxrAlertAck event = AlertMapping.toEvent(ALERT, ack, "*");
        assertThat(event.getNote()).isEqualTo("moved to isolation");
        assertThat(event.getPatientRef()).isEqualTo("p-abc");
        assertThat(AlertMapping.fromEvent(event)).isEqualTo(ack);

        AlertBoard board = new AlertBoard(10);
        board.upsert(ALERT);
        AlertBoard.Entry entry = board.acknowledge(AlertMapping.fromEvent(event)).orElseThrow();
        Map<String, Object> json = AlertMapping.json(entry, site -> true);
        assertThat(json).containsEntry("acknowledged", true);
        assertThat(json.get("ack")).isEqualTo(Map.of("acknowledgedBy", "token:*:12345678",
                "acknowledgedAt", Instant.ofEpochMilli(1_764_000_000_000L).toString(), "note", "moved to isolation"));
    }

    private static CxrAlert event(String site, List<String> sites) {
        return CxrAlert.newBuilder().setAlertId("alert-3").setPatientRef("p-abc")
                .setSiteId(site).setImageId("img-3").setProbability(0.9f).setKnnVote(0.5f).setNeighbours(List.of())
                .setFirstSeen(Instant.ofEpochMilli(1_000)).setLastSeen(Instant.ofEpochMilli(2_000))
                .setRaisedAt(Instant.ofEpochMilli(1_000)).setRule("probability >= 0.5").setSites(sites).build();
    }

    @Test
    void theSitesOfAnAlertComeFromItsEventAndGoToTheReader() {
        DashboardAlert both = AlertMapping.fromEvent(event("ED-SOUTH", List.of("ED-NORTH", "ED-SOUTH")));
        assertThat(both.sites()).containsExactly("ED-NORTH", "ED-SOUTH");
        assertThat(both.visibleTo("ED-NORTH"::equals)).isTrue();
        AlertBoard.Entry entry = new AlertBoard(10).upsert(both).orElseThrow();
        assertThat(AlertMapping.json(entry, site -> true)).containsEntry("siteId", "ED-SOUTH")
                .containsEntry("sites", List.of("ED-NORTH", "ED-SOUTH"));
        // An event written before alerts named their sites: its one site.
        DashboardAlert old = AlertMapping.fromEvent(event("ED-SOUTH", List.of()));
        assertThat(old.sites()).containsExactly("ED-SOUTH");
        assertThat(old.visibleTo("ED-NORTH"::equals)).isFalse();
    }

    @Test
    void anAcknowledgementNamesTheSiteItWasMadeFor() {
        DashboardAlert both = AlertMapping.fromEvent(event("ED-SOUTH", List.of("ED-NORTH", "ED-SOUTH")));
        Acknowledgement ack = new Acknowledgement("alert-3", "token:ED-NORTH:12345678", 3_000, null);
        assertThat(AlertMapping.toEvent(both, ack, "ED-NORTH").getSiteId()).isEqualTo("ED-NORTH");
        assertThat(AlertMapping.toEvent(both, ack, "*").getSiteId()).as("a token for every site").isEqualTo("ED-SOUTH");
    }

    @Test
    void anAcknowledgementWithoutANoteHasNone() {
        CxrAlertAck event = CxrAlertAck.newBuilder().setAlertId("alert-1").setPatientRef("p-abc")
                .setSiteId("ED-NORTH").setAcknowledgedBy("token:*:12345678")
                .setAcknowledgedAt(Instant.ofEpochMilli(2_000)).build();
        assertThat(event.getNote()).as("the schema's default").isNull();
        AlertBoard board = new AlertBoard(10);
        board.upsert(ALERT);
        Map<String, Object> json = AlertMapping.json(board.acknowledge(AlertMapping.fromEvent(event)).orElseThrow(),
                site -> true);
        @SuppressWarnings("unchecked")
        Map<String, Object> ack = (Map<String, Object>) json.get("ack");
        assertThat(ack).containsEntry("note", null).containsEntry("acknowledgedBy", "token:*:12345678");
    }

    @Test
    void aNeighbourOfASiteTheReaderMayNotSeeComesWithoutItsPatient() {
        DashboardAlert alert = new DashboardAlert("alert-2", "p-abc", "ED-NORTH", "img-2", 0.9, 0.75, List.of(
                new DashboardAlert.SimilarCase("n-1", "p-north", "ED-NORTH", 0.1, 0.8, true, true),
                new DashboardAlert.SimilarCase("n-2", "p-south", "ED-SOUTH", 0.2, 0.7, true, true)),
                1_000, 1_000, 1_000, "probability >= 0.5", null, 1);
        AlertBoard board = new AlertBoard(10);
        AlertBoard.Entry entry = board.upsert(alert).orElseThrow();

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> north = (List<Map<String, Object>>) AlertMapping.json(entry,
                "ED-NORTH"::equals).get("neighbours");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> all = (List<Map<String, Object>>) AlertMapping.json(entry, site -> true)
                .get("neighbours");

        assertThat(north).extracting(n -> n.get("patientRef")).containsExactly("p-north", null);
        assertThat(north.get(1)).containsEntry("siteId", "ED-SOUTH").containsEntry("confirmed", true);
        assertThat(all).extracting(n -> n.get("patientRef")).containsExactly("p-north", "p-south");
    }
}
