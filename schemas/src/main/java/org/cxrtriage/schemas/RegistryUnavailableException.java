package org.cxrtriage.schemas;

/**
 * A schema registry call that got no usable answer: a timeout, a refused or dropped connection, a server-side status
 * (5xx, 429), or no answer by the caller's deadline. Raised only around the registry client's own calls
 * ({@link RegistryCallDeadline}), so a record whose bytes fail to decode (a truncated Avro body, say) can never be
 * mistaken for an outage, however its decoder reports it.
 */
public final class RegistryUnavailableException extends RuntimeException {

    public RegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
