package org.cxrtriage.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.cxrtriage.common.GuardedPoll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BatchGathererTest {

    private static final TopicPartition TP = new TopicPartition("cxr.tensors.v1", 0);
    private static final Duration LONG_WAIT = Duration.ofSeconds(5);
    private static final GuardedPoll GUARD = new GuardedPoll(() -> { }, () -> { }, Duration.ofMillis(20));

    private MockConsumer<String, String> consumer;

    @BeforeEach
    void assign() {
        consumer = new MockConsumer<>("earliest");
        consumer.assign(List.of(TP));
        consumer.updateBeginningOffsets(Map.of(TP, 0L));
    }

    private void arrive(long offset) {
        consumer.addRecord(new ConsumerRecord<>(TP.topic(), TP.partition(), offset, "k" + offset, "v" + offset));
    }

    @Test
    void theBatchKeepsTheGroupGenerationOfItsFirstPoll() {
        java.util.concurrent.atomic.AtomicInteger generation = new java.util.concurrent.atomic.AtomicInteger(1);
        MockConsumer<String, String> rebalancing = new MockConsumer<>("earliest") {
            @Override
            public synchronized org.apache.kafka.clients.consumer.ConsumerGroupMetadata groupMetadata() {
                return new org.apache.kafka.clients.consumer.ConsumerGroupMetadata("cxr-inference", generation.get(),
                        "member-1", java.util.Optional.empty());
            }
        };
        rebalancing.assign(List.of(TP));
        rebalancing.updateBeginningOffsets(Map.of(TP, 0L));
        rebalancing.updateEndOffsets(Map.of(TP, 2L));
        rebalancing.schedulePollTask(() -> rebalancing.addRecord(
                new ConsumerRecord<>(TP.topic(), TP.partition(), 0, "k0", "v0")));
        rebalancing.schedulePollTask(() -> { // a rebalance between the batch's polls: a new generation
            generation.set(2);
            rebalancing.addRecord(new ConsumerRecord<>(TP.topic(), TP.partition(), 1, "k1", "v1"));
        });
        BatchGatherer<String, String> gatherer = new BatchGatherer<>(rebalancing, 4, LONG_WAIT, () -> true, GUARD);

        assertThat(gatherer.next()).extracting(ConsumerRecord::offset).containsExactly(0L, 1L);
        assertThat(gatherer.consumedIn().generationId()).as("its offsets are committed with this one").isEqualTo(1);
    }

    @Test
    void aLoneRecordGoesAtOnceWhenNothingElseIsPending() {
        arrive(0);
        consumer.updateEndOffsets(Map.of(TP, 1L));
        long start = System.nanoTime();
        List<ConsumerRecord<String, String>> batch = new BatchGatherer<>(consumer, 4, LONG_WAIT, () -> true, GUARD).next();
        assertThat(batch).extracting(ConsumerRecord::offset).containsExactly(0L);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void aBacklogFillsTheBatchOnePollAtATime() {
        consumer.setMaxPollRecords(1);
        for (long o = 0; o < 6; o++) {
            arrive(o);
        }
        consumer.updateEndOffsets(Map.of(TP, 6L));
        BatchGatherer<String, String> gatherer = new BatchGatherer<>(consumer, 4, LONG_WAIT, () -> true, GUARD);
        assertThat(gatherer.next()).extracting(ConsumerRecord::offset).containsExactly(0L, 1L, 2L, 3L);
        assertThat(gatherer.next()).extracting(ConsumerRecord::offset).containsExactly(4L, 5L);
    }

    @Test
    void waitsAtMostMaxWaitForRecordsThatArePendingButDoNotCome() {
        arrive(0);
        // The broker knows of 3 records, but the next two never arrive in the polls.
        consumer.updateEndOffsets(Map.of(TP, 3L));
        long start = System.nanoTime();
        List<ConsumerRecord<String, String>> batch =
                new BatchGatherer<>(consumer, 4, Duration.ofMillis(200), () -> true, GUARD).next();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(batch).extracting(ConsumerRecord::offset).containsExactly(0L);
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(200)).isLessThan(LONG_WAIT);
    }

    @Test
    void returnsEmptyWhenNothingArrivesOrTheWorkerStops() {
        assertThat(new BatchGatherer<>(consumer, 4, LONG_WAIT, () -> true, GUARD).next()).isEmpty();
        arrive(0);
        assertThat(new BatchGatherer<>(consumer, 4, LONG_WAIT, () -> false, GUARD).next()).isEmpty();
    }

    @Test
    void recordsGatheredBeforeARegistryOutageStayInTheBatchAndTheUnreadOneIsNotSkipped() {
        arrive(0);
        consumer.updateEndOffsets(Map.of(TP, 2L));
        // The second poll cannot read offset 1: the registry does not answer (and the mock then has nothing more).
        consumer.schedulePollTask(() -> { });
        consumer.schedulePollTask(() -> consumer.setPollException(new RecordDeserializationException(TP, 1,
                "Error deserializing VALUE", new org.cxrtriage.schemas.RegistryUnavailableException("registry call failed",
                        new TimeoutException("registry request timed out")))));

        List<ConsumerRecord<String, String>> batch =
                new BatchGatherer<>(consumer, 4, Duration.ofMillis(200), () -> true, GUARD).next();

        assertThat(batch).extracting(ConsumerRecord::offset).containsExactly(0L);
        assertThat(consumer.position(TP)).as("offset 1 is read again, not skipped").isEqualTo(1);
    }
}
