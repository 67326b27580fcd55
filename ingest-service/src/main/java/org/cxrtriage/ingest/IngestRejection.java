package org.cxrtriage.ingest;

/** An input refused at the door, with the HTTP status it maps to and a machine-readable reason. */
public class IngestRejection extends RuntimeException {

    private final int httpStatus;
    private final String reasonCode;
    private final java.time.Duration retryAfter;

    public IngestRejection(int httpStatus, String reasonCode, String message) {
        this(httpStatus, reasonCode, message, null);
    }

    /** A 5xx that knows when a retry can succeed ({@code Retry-After}). */
    public IngestRejection(int httpStatus, String reasonCode, String message, java.time.Duration retryAfter) {
        super(message);
        this.httpStatus = httpStatus;
        this.reasonCode = reasonCode;
        this.retryAfter = retryAfter;
    }

    /** When to retry, if known; null otherwise. */
    public java.time.Duration retryAfter() {
        return retryAfter;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public String reasonCode() {
        return reasonCode;
    }
}
