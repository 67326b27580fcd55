package org.cxrtriage.launcher;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The books of a run: what the senders were told was accepted against what the topics hold. Every accepted image must
 * end scored exactly once or rejected with a reason, every scored image must have exactly one neighbour set and be in
 * the case index, and every patient with a positive image exactly one alert (none for the others).
 */
public final class DeliveryAccounting {

    private final Map<String, String> accepted = new LinkedHashMap<>(); // imageId -> patientRef
    private final Map<String, Integer> images = new HashMap<>();
    private final Map<String, Integer> scores = new HashMap<>();
    private final Set<String> positiveImages = new HashSet<>();
    private final Map<String, String> scorePatient = new HashMap<>();
    private final Map<String, Integer> rejections = new HashMap<>();
    private final Map<String, Integer> neighbours = new HashMap<>();
    private final Map<String, Integer> alertsPerPatient = new HashMap<>();
    private final Set<String> indexed = new HashSet<>();
    private long abortedOutputs;
    private final Map<String, Integer> alertUpdates = new HashMap<>();
    /** Per alert: the images its OPENED and UPDATED events named, and its newest event's revision and count. */
    private final Map<String, Set<String>> alertImages = new HashMap<>();
    private final Map<String, long[]> newestRevision = new HashMap<>();

    public void accepted(String imageId, String patientRef) {
        accepted.put(imageId, patientRef);
    }

    public void image(String imageId) {
        images.merge(imageId, 1, Integer::sum);
    }

    /** A score record; {@code alerting} = the alert rule holds for it (a positive call). */
    public void score(String imageId, String patientRef, boolean alerting) {
        scores.merge(imageId, 1, Integer::sum);
        scorePatient.put(imageId, patientRef);
        if (alerting) {
            positiveImages.add(imageId);
        }
    }

    public void rejection(String imageId) {
        rejections.merge(imageId, 1, Integer::sum);
    }

    public void neighbours(String imageId) {
        neighbours.merge(imageId, 1, Integer::sum);
    }

    /** An alert opened for a patient. */
    public void alert(String patientRef) {
        alertsPerPatient.merge(patientRef, 1, Integer::sum);
    }

    /** An alert updated by a later positive image: each image may update its patient's alert once. */
    public void alertUpdate(String alertId, String imageId) {
        alertUpdates.merge(alertId + "/" + imageId, 1, Integer::sum);
    }

    /**
     * An OPENED or UPDATED event of an alert: its image, and the alert's revision and image count it carries. With
     * nothing retracted, an alert's highest revision must equal its number of images, and so must that event's count.
     */
    public void alertRevision(String alertId, String imageId, long revision, int imageCount) {
        alertImages.computeIfAbsent(alertId, a -> new HashSet<>()).add(imageId);
        newestRevision.merge(alertId, new long[] {revision, imageCount}, (a, b) -> a[0] >= b[0] ? a : b);
    }

    public void indexed(String imageId) {
        indexed.add(imageId);
    }

    /**
     * Output records written in transactions that were then aborted (a crash or failure mid-batch): what would have
     * been duplicates without transactions. Readers never see them; counted to show the retry path ran.
     */
    public void abortedOutputs(long count) {
        abortedOutputs += count;
    }

    public Set<String> acceptedIds() {
        return accepted.keySet();
    }

    /** Accepted image id -> patient ref. */
    public Map<String, String> acceptedEntries() {
        return java.util.Collections.unmodifiableMap(accepted);
    }

    /** Accepted images with a score or a rejection (and, when scored, their neighbours). */
    public boolean complete() {
        for (String id : accepted.keySet()) {
            boolean scored = scores.containsKey(id);
            if (!scored && !rejections.containsKey(id) || scored && !neighbours.containsKey(id)) {
                return false;
            }
        }
        return true;
    }

    /** The counts and the violations (empty when the books balance). */
    public record Report(Map<String, Long> counts, List<String> violations) {
        public boolean balanced() {
            return violations.isEmpty();
        }
    }

    public Report report() {
        List<String> violations = new ArrayList<>();
        long lost = 0;
        long scoredOnce = 0;
        long rejectedOnly = 0;
        long duplicateScores = 0;
        long duplicateNeighbours = 0;
        long scoredAndRejected = 0;
        long notIndexed = 0;
        long missingImageEvent = 0;
        for (String id : accepted.keySet()) {
            int s = scores.getOrDefault(id, 0);
            int r = rejections.getOrDefault(id, 0);
            int n = neighbours.getOrDefault(id, 0);
            if (!images.containsKey(id)) {
                missingImageEvent++;
                violations.add("accepted image " + id + " is not on the images topic");
            }
            if (s == 0 && r == 0) {
                lost++;
                violations.add("accepted image " + id + " was neither scored nor rejected");
            }
            if (s == 1) {
                scoredOnce++;
            }
            if (s > 1) {
                duplicateScores++;
                violations.add("image " + id + " was scored " + s + " times");
            }
            if (s == 0 && r > 0) {
                rejectedOnly++;
            }
            if (s > 0 && r > 0) {
                scoredAndRejected++;
                violations.add("image " + id + " was both scored and rejected");
            }
            if (s > 0 && n != 1) {
                duplicateNeighbours += n > 1 ? 1 : 0;
                violations.add("scored image " + id + " has " + n + " neighbour sets");
            }
            if (s > 0 && !indexed.contains(id)) {
                notIndexed++;
                violations.add("scored image " + id + " is not in the case index");
            }
        }
        // Images on the topic that no sender was told about: the broker stored them but the 202 never arrived
        // (a crash between the two). Not lost; counted so a duplicate X-ray would show.
        long unacknowledged = images.keySet().stream().filter(id -> !accepted.containsKey(id)).count();
        Set<String> positivePatients = new HashSet<>();
        for (String id : positiveImages) {
            if (accepted.containsKey(id)) {
                positivePatients.add(scorePatient.get(id));
            }
        }
        long patientsWrongAlerts = 0;
        for (String p : positivePatients) {
            int a = alertsPerPatient.getOrDefault(p, 0);
            if (a != 1) {
                patientsWrongAlerts++;
                violations.add("positive patient " + p + " has " + a + " alerts");
            }
        }
        for (Map.Entry<String, Integer> e : alertsPerPatient.entrySet()) {
            if (!positivePatients.contains(e.getKey())) {
                patientsWrongAlerts++;
                violations.add("patient " + e.getKey() + " without a positive image has " + e.getValue() + " alerts");
            }
        }
        // Every positive image after the one that opened the patient's alert updates it, exactly once.
        Map<String, Set<String>> updatedImages = new HashMap<>();
        alertUpdates.keySet().forEach(k -> {
            String image = k.substring(k.indexOf('/') + 1);
            updatedImages.computeIfAbsent(scorePatient.get(image), p -> new HashSet<>()).add(image);
        });
        long patientsWrongUpdates = 0;
        for (String p : positivePatients) {
            long positives = positiveImages.stream().filter(id -> p.equals(scorePatient.get(id))).count();
            int updates = updatedImages.getOrDefault(p, Set.of()).size();
            if (updates != positives - 1) {
                patientsWrongUpdates++;
                violations.add("positive patient " + p + " has " + positives + " positive images but " + updates
                        + " alert updates (expected " + (positives - 1) + ")");
            }
        }
        long duplicateUpdates = alertUpdates.values().stream().filter(n -> n > 1).count();
        alertUpdates.forEach((k, n) -> {
            if (n > 1) {
                violations.add("alert update " + k + " published " + n + " times");
            }
        });
        long wrongRevisions = 0;
        for (Map.Entry<String, Set<String>> e : alertImages.entrySet()) {
            long[] newest = newestRevision.get(e.getKey());
            int n = e.getValue().size();
            if (newest[0] != n || newest[1] != n) {
                wrongRevisions++;
                violations.add("alert " + e.getKey() + " has " + n + " images but its newest event has revision "
                        + newest[0] + " and count " + newest[1]);
            }
        }
        Map<String, Long> counts = new LinkedHashMap<>();
        counts.put("accepted", (long) accepted.size());
        counts.put("scored exactly once", scoredOnce);
        counts.put("rejected with a reason", rejectedOnly);
        counts.put("lost", lost);
        counts.put("scored twice or more", duplicateScores);
        counts.put("scored and rejected", scoredAndRejected);
        counts.put("duplicate neighbour sets", duplicateNeighbours);
        counts.put("missing from the images topic", missingImageEvent);
        counts.put("scored but not in the case index", notIndexed);
        counts.put("positive patients", (long) positivePatients.size());
        counts.put("alerts opened", (long) alertsPerPatient.values().stream().mapToInt(Integer::intValue).sum());
        counts.put("patients without exactly one alert", patientsWrongAlerts);
        counts.put("alert updates (later positive images)", (long) alertUpdates.size());
        counts.put("alert updates published twice", duplicateUpdates);
        counts.put("patients with missing or extra alert updates", patientsWrongUpdates);
        counts.put("alerts whose newest revision is not their image count", wrongRevisions);
        counts.put("stored but never acknowledged to the sender", unacknowledged);
        counts.put("outputs of aborted attempts (hidden from readers)", abortedOutputs);
        return new Report(counts, violations);
    }
}
