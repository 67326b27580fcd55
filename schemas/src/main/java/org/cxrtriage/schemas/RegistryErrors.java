package org.cxrtriage.schemas;

import com.microsoft.kiota.ApiException;

/** Tells a registry that cannot be reached, or has lost a schema, apart from bytes that are not an event. */
public final class RegistryErrors {

    private RegistryErrors() {
    }

    /**
     * True when {@code error} (or a cause) says the registry did not answer: a {@link RegistryUnavailableException}
     * (a timeout, a refused or dropped connection, no answer by the deadline; raised only around registry calls), or
     * a server-side status (5xx, 429). Such a record is fine and should be tried again later; false for everything
     * else: the registry's 404 for a schema id it does not know (see {@link #schemaUnknown}), bytes that are not our
     * wire format, and an Avro body that does not decode, whatever exception its decoder throws (an
     * {@code EOFException} for a truncated one).
     */
    public static boolean unavailable(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RegistryUnavailableException) {
                return true;
            }
            if (t instanceof ApiException api) {
                int status = api.getResponseStatusCode();
                return status >= 500 || status == 429;
            }
        }
        return false;
    }

    /**
     * True when the registry answered that it has no such schema (404): the record names a schema id the registry
     * does not know. Our topics are written only through this registry, so that means the registry lost or has not
     * yet loaded its schemas (a restart without persistent storage, a replica catching up), not a bad record.
     */
    public static boolean schemaUnknown(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ApiException api) {
                return api.getResponseStatusCode() == 404;
            }
        }
        return false;
    }

    /**
     * Whether a record that failed to deserialize should be read again later rather than skipped or dead-lettered:
     * the registry is {@link #unavailable} or does not know the schema ({@link #schemaUnknown}). Waiting is loud
     * (warnings, a climbing counter, lag) and loses nothing; skipping would lose a patient's image silently.
     */
    public static boolean readAgainLater(Throwable error) {
        return unavailable(error) || schemaUnknown(error);
    }

    /** For the log line of a record that is to be {@link #readAgainLater read again later}: why it could not be read. */
    public static String whyReadAgainLater(Throwable error) {
        return unavailable(error) ? "schema registry unavailable"
                : "schema unknown to the registry (did it lose its storage?)";
    }
}
