package org.cxrtriage.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HealthWatchTest {

    @Test
    void aServiceThatStaysUnhealthyIsDeclaredDeadOnce() throws Exception {
        CountDownLatch dead = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        AtomicBoolean healthy = new AtomicBoolean(true);
        try (HealthWatch watch = HealthWatch.start("t", healthy::get, Duration.ofMillis(20), 3, () -> {
            calls.incrementAndGet();
            dead.countDown();
        })) {
            Thread.sleep(150);
            assertThat(calls).as("healthy: nothing happens").hasValue(0);
            healthy.set(false);
            assertThat(dead.await(5, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(100);
            assertThat(calls).as("once").hasValue(1);
        }
    }

    @Test
    void aPassingMissIsForgiven() throws Exception {
        AtomicInteger checks = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        // Unhealthy at every other check: never 3 in a row.
        try (HealthWatch watch = HealthWatch.start("t", () -> checks.incrementAndGet() % 2 == 0, Duration.ofMillis(10),
                3, calls::incrementAndGet)) {
            Thread.sleep(300);
        }
        assertThat(checks.get()).isGreaterThan(6);
        assertThat(calls).hasValue(0);
    }
}
