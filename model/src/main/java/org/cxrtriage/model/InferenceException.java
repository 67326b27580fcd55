package org.cxrtriage.model;

/** The forward pass failed (engine error, out of memory, ...). */
public final class InferenceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InferenceException(String message, Throwable cause) {
        super(message, cause);
    }
}
