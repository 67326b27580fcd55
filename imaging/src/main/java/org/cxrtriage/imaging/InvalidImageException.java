package org.cxrtriage.imaging;

import java.util.Objects;

/**
 * An input image that the pipeline refuses, with a machine-readable {@link RejectReason} and a message
 * for humans. This is an expected outcome for bad input (route it to {@code cxr.rejected}), not a bug.
 *
 * <p>Unchecked so that it can cross lambdas in stream topologies; every public method that can throw it
 * says so in its {@code throws} clause.
 */
public final class InvalidImageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final RejectReason code;

    public InvalidImageException(RejectReason code, String message) {
        this(code, message, null);
    }

    public InvalidImageException(RejectReason code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** The reason code, stable across releases. */
    public RejectReason code() {
        return code;
    }

    @Override
    public String toString() {
        return "InvalidImageException[" + code + "]: " + getMessage();
    }
}
