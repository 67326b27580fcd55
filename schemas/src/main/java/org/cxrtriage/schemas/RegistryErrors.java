package org.cxrtriage.schemas;

import com.microsoft.kiota.ApiException;
import io.vertx.core.http.HttpClosedException;
import java.io.IOException;
import java.util.concurrent.TimeoutException;

/** Tells a registry that cannot be reached right now apart from a payload or schema that is wrong. */
public final class RegistryErrors {

    private RegistryErrors() {
    }

    /**
     * True when {@code error} (or a cause) says the registry did not answer: a timeout, a refused or dropped
     * connection, or a server-side status (5xx, 429). Such a record is fine and should be tried again later; false for
     * everything else (an unknown schema id, bytes that are not our wire format), which no retry will fix.
     */
    public static boolean unavailable(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TimeoutException || t instanceof IOException) {
                return true;
            }
            if (t instanceof ApiException api) {
                int status = api.getResponseStatusCode();
                return status >= 500 || status == 429;
            }
            if (t instanceof HttpClosedException) {
                return true;
            }
        }
        return false;
    }
}
