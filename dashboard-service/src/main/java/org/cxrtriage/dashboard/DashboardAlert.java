package org.cxrtriage.dashboard;

import java.util.List;

/**
 * An infection-control alert as the dashboard shows it. Patients appear only by their pseudonymised reference.
 * Times are epoch milliseconds. {@code imageId} is the newest positive image, {@code openedByImageId} the one that
 * opened the alert (null when it is the same), {@code imageCount} how many positive images the alert has seen.
 */
public record DashboardAlert(String alertId, String patientRef, String siteId, String imageId, double probability,
                             double knnVote, List<SimilarCase> neighbours, long firstSeen, long lastSeen,
                             long raisedAt, String rule, String openedByImageId, int imageCount) {

    public DashboardAlert {
        neighbours = List.copyOf(neighbours);
    }

    /** A similar prior case of another patient: its image, distance, probability and label. */
    public record SimilarCase(String imageId, String patientRef, String siteId, double distance, double probability,
                              boolean positive, boolean confirmed) {
    }
}
