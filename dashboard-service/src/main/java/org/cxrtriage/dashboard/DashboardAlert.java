package org.cxrtriage.dashboard;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * An infection-control alert as the dashboard shows it. Patients appear only by their pseudonymised reference.
 * Times are epoch milliseconds. {@code imageId} is the newest positive image and {@code siteId} its site,
 * {@code openedByImageId} the one that opened the alert (null when it is the same), {@code imageCount} how many
 * positive images the alert has seen, {@code sites} every site they came from (sorted, {@code siteId} among them):
 * each of those sites keeps the alert in view when the patient is imaged elsewhere. {@code imageWithdrawn}: its site
 * retracted the image shown and no other image of the alert is known here, so none is shown (nor similar cases) until
 * the patient's next positive image. {@code revision}: the alert's change number its count and sites are from (0:
 * not known, events written before alerts had one).
 */
public record DashboardAlert(String alertId, String patientRef, String siteId, String imageId, double probability,
                             double knnVote, List<SimilarCase> neighbours, long firstSeen, long lastSeen,
                             long raisedAt, String rule, String openedByImageId, int imageCount, List<String> sites,
                             boolean imageWithdrawn, long revision) {

    public DashboardAlert {
        neighbours = List.copyOf(neighbours);
        TreeSet<String> all = new TreeSet<>(sites);
        all.add(siteId);
        sites = List.copyOf(all);
    }

    /** An alert as an event without a revision shows it (its image not withdrawn). */
    public DashboardAlert(String alertId, String patientRef, String siteId, String imageId, double probability,
                          double knnVote, List<SimilarCase> neighbours, long firstSeen, long lastSeen, long raisedAt,
                          String rule, String openedByImageId, int imageCount, List<String> sites) {
        this(alertId, patientRef, siteId, imageId, probability, knnVote, neighbours, firstSeen, lastSeen, raisedAt,
                rule, openedByImageId, imageCount, sites, false, 0);
    }

    /** An alert whose images all came from {@code siteId}. */
    public DashboardAlert(String alertId, String patientRef, String siteId, String imageId, double probability,
                          double knnVote, List<SimilarCase> neighbours, long firstSeen, long lastSeen, long raisedAt,
                          String rule, String openedByImageId, int imageCount) {
        this(alertId, patientRef, siteId, imageId, probability, knnVote, neighbours, firstSeen, lastSeen, raisedAt, rule,
                openedByImageId, imageCount, List.of());
    }

    /** Whether a reader who may see the sites {@code visible} accepts may see this alert: one of its sites will do. */
    public boolean visibleTo(Predicate<String> visible) {
        return sites.stream().anyMatch(visible);
    }

    /** This alert with the sites of {@code earlier} too (an event from before the alert named its sites). */
    DashboardAlert withSitesOf(DashboardAlert earlier) {
        List<String> merged = new ArrayList<>(sites);
        merged.addAll(earlier.sites());
        return new DashboardAlert(alertId, patientRef, siteId, imageId, probability, knnVote, neighbours, firstSeen,
                lastSeen, raisedAt, rule, openedByImageId, imageCount, merged, imageWithdrawn,
                Math.max(revision, earlier.revision));
    }

    /**
     * Whether this event is older than {@code other}: by revision when both have one and they differ, else by
     * last-seen time (equal revisions hold the same count and sites; an OPENED event processed again carries the
     * revision of the time it was processed again, with the time the alert opened).
     */
    boolean olderThan(DashboardAlert other) {
        return revision > 0 && other.revision > 0 && revision != other.revision ? revision < other.revision
                : lastSeen < other.lastSeen;
    }

    /**
     * Whether {@code image} (an event of this alert) may still be one of its images: its site is among the alert's
     * sites. A retraction leaves the sites of the images left, so an image whose site is not among them has left.
     */
    boolean mayHold(DashboardAlert image) {
        return sites.contains(image.siteId());
    }

    /**
     * This alert showing {@code image} (another event of the alert: its image, site, probability, vote, similar cases
     * and last-seen time) in place of the image shown. The last-seen time is the image's: a later image withdrawn by
     * its site no longer counts as new since an acknowledgement.
     */
    DashboardAlert showing(DashboardAlert image) {
        return new DashboardAlert(alertId, patientRef, image.siteId(), image.imageId(), image.probability(),
                image.knnVote(), image.neighbours(), firstSeen, image.lastSeen(), raisedAt, rule, openedByImageId,
                imageCount, sites, false, revision);
    }

    /** Withdrawn by its site (no positive image left): the board shows it as such until it leaves the list. */
    public boolean withdrawn() {
        return imageCount == 0;
    }

    /**
     * This alert after its image {@code retractedImageId} was retracted: {@code imagesLeft} images, taken at {@code
     * sitesLeft} (empty: unknown, the sites stay), as of {@code retractionRevision} (0: unknown, the revision stays).
     * When the retracted image is the one shown, or the site of the one shown is no longer among the sites (that
     * image left the alert by a retraction not read yet), it is marked withdrawn and its similar cases go, and the
     * alert's site becomes one that is left (the board then shows another image of the alert where it knows one:
     * {@link #showing}). Its last-seen time stays here (a retraction is no new image).
     */
    DashboardAlert retracted(String retractedImageId, int imagesLeft, String retractionRule, List<String> sitesLeft,
                             long retractionRevision) {
        List<String> keep = sitesLeft.isEmpty() ? sites : sitesLeft;
        boolean gone = imageId.equals(retractedImageId) || !keep.contains(siteId);
        // The site shown stands for the image shown: once that image is gone, for whichever site is left.
        String site = keep.contains(siteId) ? siteId : keep.get(0);
        return new DashboardAlert(alertId, patientRef, site, imageId, probability, knnVote,
                gone ? List.of() : neighbours, firstSeen, lastSeen, raisedAt, retractionRule, openedByImageId,
                imagesLeft, keep, imageWithdrawn || gone, Math.max(revision, retractionRevision));
    }

    /** This alert with its image {@code retractedImageId} marked withdrawn, when shown; nothing else changes. */
    DashboardAlert withdrawing(String retractedImageId) {
        if (!imageId.equals(retractedImageId) || imageWithdrawn) {
            return this;
        }
        return new DashboardAlert(alertId, patientRef, siteId, imageId, probability, knnVote, List.of(), firstSeen,
                lastSeen, raisedAt, rule, openedByImageId, imageCount, sites, true, revision);
    }

    /** A similar prior case of another patient: its image, distance, probability and label. */
    public record SimilarCase(String imageId, String patientRef, String siteId, double distance, double probability,
                              boolean positive, boolean confirmed) {
    }
}
