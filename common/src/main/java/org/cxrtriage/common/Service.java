package org.cxrtriage.common;

/** The tiny lifecycle every service implements, so the launcher and tests can run them alike. */
public interface Service extends AutoCloseable {

    String name();

    void start() throws Exception;

    /** True while the service is doing its job (used by /health). */
    boolean healthy();

    @Override
    void close();
}
