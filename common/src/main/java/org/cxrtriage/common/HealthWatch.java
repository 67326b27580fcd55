package org.cxrtriage.common;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Calls {@code onDead} once a service has reported itself unhealthy at {@code strikes} checks in a row. A service is
 * unhealthy when a thread it lives by has ended (an inference worker, the similarity loop, all stream threads), which
 * nothing inside the process restarts; ending the process hands it to whoever restarts processes (the containers'
 * restart policy), instead of leaving a process up that scores nothing.
 */
public final class HealthWatch implements AutoCloseable {

    private final ScheduledExecutorService timer;

    private HealthWatch(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    public static HealthWatch start(String name, BooleanSupplier healthy, Duration every, int strikes,
                                    Runnable onDead) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name + "-health-watch");
            t.setDaemon(true);
            return t;
        });
        int[] misses = {0};
        timer.scheduleWithFixedDelay(() -> {
            misses[0] = healthy.getAsBoolean() ? 0 : misses[0] + 1;
            if (misses[0] >= strikes) {
                timer.shutdown();
                onDead.run();
            }
        }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return new HealthWatch(timer);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
