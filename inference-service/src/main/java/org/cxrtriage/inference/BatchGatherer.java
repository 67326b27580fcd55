package org.cxrtriage.inference;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.cxrtriage.common.GuardedPoll;

/**
 * Gathers consumed records into a batch of up to {@code batchSize}. Once the first record is in, it polls for more
 * only while the consumer knows of records not yet handed over (its lag on an assigned partition is above zero, or not
 * known yet), and never longer than {@code maxWait}. At saturation the backlog fills whole batches; at low load a lone
 * image goes straight to the model instead of waiting {@code maxWait} for company that is not coming.
 */
final class BatchGatherer<K, V> {

    /** How long an idle poll blocks before checking whether the worker should stop. */
    private static final Duration IDLE_POLL = Duration.ofMillis(500);

    private final Consumer<K, V> consumer;
    private final int batchSize;
    private final Duration maxWait;
    private final BooleanSupplier running;
    private final GuardedPoll guard;
    private ConsumerGroupMetadata consumedIn;

    BatchGatherer(Consumer<K, V> consumer, int batchSize, Duration maxWait, BooleanSupplier running,
                  GuardedPoll guard) {
        this.consumer = consumer;
        this.batchSize = batchSize;
        this.maxWait = maxWait;
        this.running = running;
        this.guard = guard;
    }

    /** The next batch; empty when nothing arrived within one idle poll or the worker is stopping. */
    List<ConsumerRecord<K, V>> next() {
        List<ConsumerRecord<K, V>> batch = new ArrayList<>();
        long deadline = 0;
        while (running.getAsBoolean() && batch.size() < batchSize) {
            Duration wait = IDLE_POLL;
            if (!batch.isEmpty()) {
                long leftNanos = deadline - System.nanoTime();
                if (leftNanos <= 0 || caughtUp()) {
                    break;
                }
                wait = Duration.ofNanos(leftNanos);
            }
            // An unreadable record ends this poll without records, and those gathered so far stay in the batch.
            for (ConsumerRecord<K, V> r : guard.poll(consumer, wait)) {
                if (batch.isEmpty()) {
                    deadline = System.nanoTime() + maxWait.toNanos();
                    consumedIn = consumer.groupMetadata();
                }
                batch.add(r);
            }
            if (batch.isEmpty()) {
                break;
            }
        }
        return batch;
    }

    /**
     * The group generation the last batch's first records were consumed in: its offsets are committed with it, so a
     * rebalance during a later poll of the same batch makes the commit fail rather than publish its scores twice.
     */
    ConsumerGroupMetadata consumedIn() {
        return consumedIn;
    }

    /** True when every assigned partition's lag is known and zero: no committed record is left to fetch. */
    private boolean caughtUp() {
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong lag = consumer.currentLag(tp);
            if (lag.isEmpty() || lag.getAsLong() > 0) {
                return false;
            }
        }
        return true;
    }
}
