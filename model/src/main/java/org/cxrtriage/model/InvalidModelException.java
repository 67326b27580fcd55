package org.cxrtriage.model;

import java.io.IOException;

/** A model directory that is missing, incomplete, unreadable, or whose weights do not match model.json. */
public final class InvalidModelException extends IOException {
    private static final long serialVersionUID = 1L;

    public InvalidModelException(String message) {
        super(message);
    }

    public InvalidModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
