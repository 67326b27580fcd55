package org.cxrtriage.ingest;

/** An input refused at the door, with the HTTP status it maps to and a machine-readable reason. */
public class IngestRejection extends RuntimeException {

    private final int httpStatus;
    private final String reasonCode;

    public IngestRejection(int httpStatus, String reasonCode, String message) {
        super(message);
        this.httpStatus = httpStatus;
        this.reasonCode = reasonCode;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public String reasonCode() {
        return reasonCode;
    }
}
