package org.cxrtriage.dashboard;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.CxrAlertAck;
import org.cxrtriage.schemas.LabelSource;
import org.cxrtriage.schemas.Neighbour;

/** Events to the board's domain types, and board entries to the JSON the page reads. */
final class AlertMapping {

    private AlertMapping() {
    }

    static DashboardAlert fromEvent(CxrAlert a) {
        List<DashboardAlert.SimilarCase> neighbours = a.getNeighbours().stream().map(AlertMapping::fromEvent).toList();
        return new DashboardAlert(a.getAlertId(), a.getPatientRef(), a.getSiteId(), a.getImageId(),
                a.getProbability(), a.getKnnVote(), neighbours, a.getFirstSeen().toEpochMilli(),
                a.getLastSeen().toEpochMilli(), a.getRaisedAt().toEpochMilli(), a.getRule(), a.getOpenedByImageId(),
                a.getImageCount(), a.getSites(), false, a.getRevision());
    }

    static DashboardAlert.SimilarCase fromEvent(Neighbour n) {
        return new DashboardAlert.SimilarCase(n.getImageId(), n.getPatientRef(), n.getSiteId(), n.getDistance(),
                n.getProbability(), n.getPositive(), n.getLabelSource() == LabelSource.CONFIRMED);
    }

    static Acknowledgement fromEvent(CxrAlertAck a) {
        return new Acknowledgement(a.getAlertId(), a.getAcknowledgedBy(), a.getAcknowledgedAt().toEpochMilli(),
                a.getNote());
    }

    /**
     * The acknowledgement event. Its site is the one the acknowledgement was made for: the token's site when the
     * token is bound to one of the alert's sites, else (a token for every site) the site of the alert's newest image.
     */
    static CxrAlertAck toEvent(DashboardAlert alert, Acknowledgement ack, String tokenSite) {
        String site = alert.sites().contains(tokenSite) ? tokenSite : alert.siteId();
        return CxrAlertAck.newBuilder().setAlertId(alert.alertId()).setPatientRef(alert.patientRef())
                .setSiteId(site).setAcknowledgedBy(ack.acknowledgedBy())
                .setAcknowledgedAt(Instant.ofEpochMilli(ack.acknowledgedAt())).setNote(ack.note()).build();
    }

    /**
     * What GET /api/alerts and the SSE events carry for one alert, for a reader who may see the sites
     * {@code maySee} accepts: a neighbour of another site comes without its patient's reference (pseudonyms are
     * global, and a site could recognise its own patients X-rayed elsewhere, with their PCR results).
     */
    static Map<String, Object> json(AlertBoard.Entry e, Predicate<String> maySee) {
        DashboardAlert a = e.alert();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("alertId", a.alertId());
        m.put("patientRef", a.patientRef());
        m.put("siteId", a.siteId());
        m.put("sites", a.sites());
        m.put("imageId", a.imageId());
        m.put("probability", a.probability());
        m.put("knnVote", a.knnVote());
        m.put("firstSeen", iso(a.firstSeen()));
        m.put("lastSeen", iso(a.lastSeen()));
        m.put("raisedAt", iso(a.raisedAt()));
        m.put("rule", a.rule());
        m.put("openedByImageId", a.openedByImageId());
        m.put("imageCount", a.imageCount());
        m.put("withdrawn", a.withdrawn());
        m.put("imageWithdrawn", a.imageWithdrawn());
        m.put("revision", a.revision());
        m.put("neighbours", a.neighbours().stream().map(n -> {
            Map<String, Object> nm = new LinkedHashMap<>();
            nm.put("imageId", n.imageId());
            nm.put("patientRef", maySee.test(n.siteId()) ? n.patientRef() : null);
            nm.put("siteId", n.siteId());
            nm.put("distance", n.distance());
            nm.put("probability", n.probability());
            nm.put("positive", n.positive());
            nm.put("confirmed", n.confirmed());
            return nm;
        }).toList());
        m.put("acknowledged", e.acknowledged());
        m.put("updatedSinceAck", e.updatedSinceAck());
        if (e.ack() != null) {
            Map<String, Object> am = new LinkedHashMap<>();
            am.put("acknowledgedBy", e.ack().acknowledgedBy());
            am.put("acknowledgedAt", iso(e.ack().acknowledgedAt()));
            am.put("note", e.ack().note());
            m.put("ack", am);
        }
        m.put("version", e.version());
        return m;
    }

    private static String iso(long millis) {
        return Instant.ofEpochMilli(millis).toString();
    }
}
