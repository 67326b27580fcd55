package org.cxrtriage.dashboard;

/**
 * Someone on a dashboard has seen an alert and acted. {@code acknowledgedBy} names the API token used (its site and a
 * fingerprint), never a person; {@code note} is optional free text typed next to the Acknowledge button (null when
 * none), shown on every dashboard.
 */
public record Acknowledgement(String alertId, String acknowledgedBy, long acknowledgedAt, String note) {

    /** The most characters a note may have. */
    public static final int MAX_NOTE = 500;

    /**
     * A note as sent by a page: stripped, and null when absent or blank. Refused (IllegalArgumentException) when
     * longer than {@link #MAX_NOTE} or holding control characters other than line feeds.
     */
    public static String cleanNote(Object raw) {
        if (raw == null || raw.toString().isBlank()) {
            return null;
        }
        String note = raw.toString().strip();
        if (note.length() > MAX_NOTE || note.chars().anyMatch(c -> c < 0x20 && c != '\n')) {
            throw new IllegalArgumentException(
                    "a note has at most " + MAX_NOTE + " characters and no control characters");
        }
        return note;
    }
}
