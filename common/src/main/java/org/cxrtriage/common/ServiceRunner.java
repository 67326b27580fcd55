package org.cxrtriage.common;

import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a service as a process: start it, then close it cleanly on SIGTERM/SIGINT. */
public final class ServiceRunner {

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
        stopped.await();
    }
}
