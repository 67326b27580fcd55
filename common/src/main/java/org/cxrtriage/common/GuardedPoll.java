package org.cxrtriage.common;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.cxrtriage.schemas.RegistryErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code consumer.poll} for the services' own loops, which never throws for a record that cannot be deserialized.
 *
 * <p>Two different things make a record unreadable. The schema registry may not answer (down, restarting, silent),
 * or not know the record's schema id (it lost its storage): the record is fine, so the consumer stays where it is,
 * waits {@link #REGISTRY_BACKOFF} and reads the same record again; nothing is skipped however long that lasts. Or the
 * bytes are not an event (not our wire format): no retry will fix that, so the record is skipped with a warning and a
 * count. Either way the poll returns no records, and records an earlier poll returned are untouched.
 */
public final class GuardedPoll {

    public static final Duration REGISTRY_BACKOFF = Duration.ofSeconds(1);
    private static final Logger LOG = LoggerFactory.getLogger(GuardedPoll.class);
    private static final long WARN_EVERY_NANOS = Duration.ofSeconds(30).toNanos();

    private final Runnable onSkipped;
    private final Runnable onRegistryWait;
    private final Duration backoff;
    private long lastWarning = System.nanoTime() - WARN_EVERY_NANOS;

    /** Counts skips as {@code <prefix>.unreadable} and registry waits as {@code <prefix>.registry.waits}. */
    public static GuardedPoll counting(MeterRegistry metrics, String prefix) {
        return new GuardedPoll(metrics.counter(prefix + ".unreadable")::increment,
                metrics.counter(prefix + ".registry.waits")::increment, REGISTRY_BACKOFF);
    }

    public static GuardedPoll uncounted() {
        return new GuardedPoll(() -> { }, () -> { }, REGISTRY_BACKOFF);
    }

    public GuardedPoll(Runnable onSkipped, Runnable onRegistryWait, Duration backoff) {
        this.onSkipped = onSkipped;
        this.onRegistryWait = onRegistryWait;
        this.backoff = backoff;
    }

    public <K, V> ConsumerRecords<K, V> poll(Consumer<K, V> consumer, Duration timeout) {
        try {
            return consumer.poll(timeout);
        } catch (RecordDeserializationException e) {
            if (RegistryErrors.readAgainLater(e)) {
                onRegistryWait.run();
                long now = System.nanoTime();
                if (now - lastWarning >= WARN_EVERY_NANOS) {
                    lastWarning = now;
                    LOG.warn("{}, waiting to read {} offset {} again: {}", RegistryErrors.whyReadAgainLater(e),
                            e.topicPartition(), e.offset(), rootMessage(e));
                }
                sleep(backoff);
            } else {
                LOG.warn("skipping unreadable record at {} offset {}: {}", e.topicPartition(), e.offset(),
                        rootMessage(e));
                onSkipped.run();
                consumer.seek(e.topicPartition(), e.offset() + 1);
            }
            return ConsumerRecords.empty();
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? e.toString() : e.getMessage() + " (" + root + ")";
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }
}
