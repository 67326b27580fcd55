package org.cxrtriage.common;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a service as a process: start it, close it cleanly on SIGTERM/SIGINT, and end the process (exit status
 * {@value #EXIT_UNHEALTHY}) when the service stays unhealthy, so that its restart policy starts it afresh.
 */
public final class ServiceRunner {

    /** Exit status of a process that ended because its service stopped working (sysexits' EX_SOFTWARE). */
    public static final int EXIT_UNHEALTHY = 70;
    private static final Duration CHECK_EVERY = Duration.ofSeconds(10);
    private static final int STRIKES = 3;
    private static final Logger LOG = LoggerFactory.getLogger(ServiceRunner.class);

    private ServiceRunner() {
    }

    public static void runUntilStopped(Service service) throws Exception {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("stopping {}", service.name());
            service.close();
            stopped.countDown();
        }, service.name() + "-shutdown"));
        service.start();
        try (HealthWatch watch = HealthWatch.start(service.name(), service::healthy, CHECK_EVERY, STRIKES, () -> {
            LOG.error("{} has been unhealthy for {} s (a thread it lives by has stopped; see the errors above): "
                    + "ending the process so that it is started afresh", service.name(),
                    CHECK_EVERY.multipliedBy(STRIKES).toSeconds());
            System.exit(EXIT_UNHEALTHY);
        })) {
            stopped.await();
        }
    }
}
