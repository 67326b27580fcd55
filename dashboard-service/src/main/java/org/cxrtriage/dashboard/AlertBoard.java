package org.cxrtriage.dashboard;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The newest alerts, newest first, with their acknowledgement state. Alerts are upserts keyed by alert id (a later
 * image of the patient republishes the alert): the event with the highest revision holds the alert's count and
 * sites (two similarity instances can commit one alert's events out of order), by {@code lastSeen} for events without
 * one. Acknowledgements may arrive before their alert (two topics read side by side) and are then kept until it does.
 * The board also keeps the images of each alert it has seen, so that when the image shown is retracted it can show
 * the newest one left. Thread-safe; no Kafka in here.
 */
public final class AlertBoard {

    /** One alert with its acknowledgement; {@code version} grows with every change of the board. */
    public record Entry(DashboardAlert alert, Acknowledgement ack, long version) {

        public boolean acknowledged() {
            return ack != null;
        }

        /** The patient had another positive image after the acknowledgement. */
        public boolean updatedSinceAck() {
            return ack != null && alert.lastSeen() > ack.acknowledgedAt();
        }
    }

    /** Newest last-seen first; ties broken by raise time and id so the order is total. */
    static final Comparator<Entry> NEWEST_FIRST = Comparator
            .comparingLong((Entry e) -> e.alert().lastSeen()).reversed()
            .thenComparing(Comparator.comparingLong((Entry e) -> e.alert().raisedAt()).reversed())
            .thenComparing(e -> e.alert().alertId());

    private final int capacity;
    private final Map<String, Entry> byId = new HashMap<>();
    private final TreeSet<Entry> ordered = new TreeSet<>(NEWEST_FIRST);
    private final Map<String, Acknowledgement> pendingAcks;
    /** Images their sites withdrew (every retraction is read at start: they are few). */
    private final java.util.Set<String> retractedImages = new java.util.HashSet<>();
    /** The images of each alert on the board as their events showed them, by image id (at most {@link #IMAGES_KEPT}). */
    private final Map<String, Map<String, DashboardAlert>> imagesOf = new HashMap<>();
    /** Images kept per alert: a patient has a few positive images in a window, not hundreds. */
    static final int IMAGES_KEPT = 32;
    private long version;

    public AlertBoard(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
        this.pendingAcks = new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Acknowledgement> eldest) {
                return size() > AlertBoard.this.capacity;
            }
        };
    }

    /**
     * Adds or replaces an alert. Returns the changed entry, or empty when nothing changed: an older or identical
     * version of an alert already shown, or an alert older than every one the board keeps when it is full.
     */
    public synchronized Optional<Entry> upsert(DashboardAlert alert) {
        remember(alert);
        Entry old = byId.get(alert.alertId());
        if (old == null) {
            return place(new Entry(shownIfLeft(alert), pendingAcks.remove(alert.alertId()), ++version));
        }
        DashboardAlert current = old.alert();
        DashboardAlert next;
        if (alert.olderThan(current)) {
            // Its count and sites are out of date; its image is shown only when it is newer than the one shown (or
            // none is shown) and may still be in the alert.
            if (!mayShow(current, alert)) {
                return Optional.empty();
            }
            next = current.showing(alert);
        } else {
            // Sites only add up when either event was written before alerts had revisions (or named their sites).
            next = alert.revision() == 0 || current.revision() == 0 ? alert.withSitesOf(current) : alert;
            next = shownIfLeft(next);
            if (mayShow(next, current)) {
                next = next.showing(current); // an older image's event processed again: the newer image stays
            }
        }
        if (next.equals(current)) {
            return Optional.empty();
        }
        ordered.remove(old);
        return place(new Entry(next, old.ack(), ++version));
    }

    /** Whether {@code alert} should show {@code image} instead of what it shows: see {@link #upsert}. */
    private boolean mayShow(DashboardAlert alert, DashboardAlert image) {
        return alert.imageCount() > 0 && !image.imageWithdrawn() && !image.imageId().equals(alert.imageId())
                && !retractedImages.contains(image.imageId()) && alert.mayHold(image)
                && (alert.imageWithdrawn() || image.lastSeen() > alert.lastSeen());
    }

    /**
     * {@code alert}, or, when its image was retracted (the board read the retraction first), with the newest image of
     * the alert it has seen that may still be in it, else with its image withdrawn.
     */
    private DashboardAlert shownIfLeft(DashboardAlert alert) {
        return retractedImages.contains(alert.imageId()) ? newestLeft(alert.withdrawing(alert.imageId())) : alert;
    }

    /** {@code alert}, whose image is withdrawn, showing the newest image of it the board has seen that may be left. */
    private DashboardAlert newestLeft(DashboardAlert alert) {
        Map<String, DashboardAlert> images = imagesOf.get(alert.alertId());
        if (!alert.imageWithdrawn() || alert.imageCount() == 0 || images == null) {
            return alert;
        }
        return images.values().stream()
                .filter(a -> !retractedImages.contains(a.imageId()) && alert.mayHold(a))
                .max(Comparator.comparingLong(DashboardAlert::lastSeen))
                .map(alert::showing).orElse(alert);
    }

    /** Puts an entry on the board; empty when it is older than every one a full board keeps (it goes again). */
    private Optional<Entry> place(Entry entry) {
        byId.put(entry.alert().alertId(), entry);
        ordered.add(entry);
        if (ordered.size() > capacity) {
            Entry evicted = ordered.pollLast();
            byId.remove(evicted.alert().alertId());
            imagesOf.remove(evicted.alert().alertId());
            if (evicted == entry) {
                return Optional.empty();
            }
        }
        return Optional.of(entry);
    }

    private void remember(DashboardAlert alert) {
        if (retractedImages.contains(alert.imageId())) {
            return;
        }
        imagesOf.computeIfAbsent(alert.alertId(), id -> new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, DashboardAlert> eldest) {
                return size() > IMAGES_KEPT;
            }
        }).put(alert.imageId(), alert);
    }

    /**
     * Applies an acknowledgement. The newest acknowledgement of an alert wins (one may acknowledge again after the
     * patient's next image); replays of an older or the same one change nothing. Returns the changed entry, or empty
     * when nothing changed or the alert is not (yet) on the board.
     */
    public synchronized Optional<Entry> acknowledge(Acknowledgement ack) {
        Entry old = byId.get(ack.alertId());
        if (old == null) {
            Acknowledgement pending = pendingAcks.get(ack.alertId());
            if (pending == null || pending.acknowledgedAt() < ack.acknowledgedAt()) {
                pendingAcks.put(ack.alertId(), ack);
            }
            return Optional.empty();
        }
        if (old.ack() != null && old.ack().acknowledgedAt() >= ack.acknowledgedAt()) {
            return Optional.empty();
        }
        Entry entry = new Entry(old.alert(), ack, ++version);
        ordered.remove(old);
        ordered.add(entry);
        byId.put(ack.alertId(), entry);
        return Optional.of(entry);
    }

    /**
     * An image of an alert was retracted by its site: the alert, when shown here, keeps what it shows with the images
     * left ({@code imagesLeft} 0: withdrawn), the sites left ({@code sitesLeft}, replacing the old ones: the site
     * that sent the image to the wrong patient no longer sees the alert), the retraction's rule and {@code revision}.
     * When the image shown is the one retracted (or has left the alert: its site is no longer among the sites), the
     * newest image the board has seen that may still be in the alert (not retracted, its site among the sites) takes
     * its place (none seen: the image is marked withdrawn). A retraction older than the alert shown (a lower revision) changes only
     * the image shown, when it is the one retracted. The image's pictures are refused from then on ({@link
     * #showsImage}). Empty when the alert is not shown here or nothing changed.
     */
    public synchronized Optional<Entry> retract(String alertId, String imageId, int imagesLeft, String rule,
                                                List<String> sitesLeft, long revision) {
        retractedImages.add(imageId);
        Map<String, DashboardAlert> images = imagesOf.get(alertId);
        if (images != null) {
            images.remove(imageId);
        }
        Entry old = byId.get(alertId);
        if (old == null) {
            return Optional.empty();
        }
        boolean stale = revision > 0 && old.alert().revision() > revision;
        DashboardAlert changed = newestLeft(stale ? old.alert().withdrawing(imageId)
                : old.alert().retracted(imageId, imagesLeft, rule, sitesLeft, revision));
        if (changed.equals(old.alert())) {
            return Optional.empty();
        }
        ordered.remove(old);
        byId.remove(alertId);
        return place(new Entry(changed, old.ack(), ++version));
    }

    /** An image its site withdrew: its pictures are refused from now on ({@link #showsImage}). */
    public synchronized void retractImage(String imageId) {
        retractedImages.add(imageId);
    }

    public synchronized Optional<Entry> get(String alertId) {
        return Optional.ofNullable(byId.get(alertId));
    }

    /**
     * Newest first, at most {@code limit}, only alerts with a site {@code visible} accepts and, when {@code site} is
     * not null, only alerts with an image from that site.
     */
    public synchronized List<Entry> list(Predicate<String> visible, String site, int limit) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : ordered) {
            if (out.size() >= limit) {
                break;
            }
            DashboardAlert a = e.alert();
            if (a.visibleTo(visible) && (site == null || a.sites().contains(site))) {
                out.add(e);
            }
        }
        return out;
    }

    /** The sites of the alerts on the board that {@code visible} accepts, sorted. */
    public synchronized List<String> sites(Predicate<String> visible) {
        return ordered.stream().flatMap(e -> e.alert().sites().stream()).filter(visible).distinct().sorted().toList();
    }

    /**
     * Whether an alert that {@code visible} accepts shows this image, as its own or as one of its similar cases: who
     * may see the alert may see the pictures it refers to.
     */
    public synchronized boolean showsImage(String imageId, Predicate<String> visible) {
        if (retractedImages.contains(imageId)) {
            return false;
        }
        for (Entry e : ordered) {
            DashboardAlert a = e.alert();
            if (!a.visibleTo(visible)) {
                continue;
            }
            if (a.imageId().equals(imageId)
                    || a.neighbours().stream().anyMatch(n -> n.imageId().equals(imageId))) {
                return true;
            }
        }
        return false;
    }

    public synchronized int size() {
        return byId.size();
    }

    public synchronized long version() {
        return version;
    }
}
