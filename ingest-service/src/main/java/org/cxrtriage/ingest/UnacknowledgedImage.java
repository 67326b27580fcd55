package org.cxrtriage.ingest;

import org.cxrtriage.schemas.ImageReceived;

/**
 * The broker did not acknowledge an image (a delivery timeout, a refusal): how an accepted upload's send fails. It
 * names the event, so that a sender that retries can tell its own earlier upload (a 409 with this id) from another's.
 */
public final class UnacknowledgedImage extends RuntimeException {

    private final transient ImageReceived event;

    UnacknowledgedImage(ImageReceived event, Throwable cause) {
        super("the broker did not acknowledge image " + event.getImageId() + ": " + cause, cause);
        this.event = event;
    }

    public ImageReceived event() {
        return event;
    }
}
