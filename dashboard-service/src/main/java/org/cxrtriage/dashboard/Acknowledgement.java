package org.cxrtriage.dashboard;

/**
 * Someone on a dashboard has seen an alert and acted. {@code acknowledgedBy} names the API token used (its site and a
 * fingerprint), never a person.
 */
public record Acknowledgement(String alertId, String acknowledgedBy, long acknowledgedAt, String note) {
}
