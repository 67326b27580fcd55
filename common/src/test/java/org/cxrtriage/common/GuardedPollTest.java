package org.cxrtriage.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.cxrtriage.schemas.RegistryUnavailableException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GuardedPollTest {

    private static final TopicPartition TP = new TopicPartition("cxr.scores.v1", 0);

    private final AtomicInteger skipped = new AtomicInteger();
    private final AtomicInteger waits = new AtomicInteger();
    private final GuardedPoll guard = new GuardedPoll(skipped::incrementAndGet, waits::incrementAndGet,
            Duration.ofMillis(20));
    private MockConsumer<String, String> consumer;

    @BeforeEach
    void assign() {
        consumer = new MockConsumer<>("earliest");
        consumer.assign(List.of(TP));
        consumer.updateBeginningOffsets(Map.of(TP, 0L));
        consumer.seek(TP, 5);
    }

    @Test
    void aRegistryOutageLeavesTheRecordToBeReadAgain() {
        consumer.setPollException(unreadable(5, new IllegalStateException("lookup failed",
                new RegistryUnavailableException("schema registry call getSchemaByContentId failed",
                        new TimeoutException("The timeout period of 400ms has been exceeded")))));

        assertThat(guard.poll(consumer, Duration.ofMillis(10))).isEmpty();

        assertThat(consumer.position(TP)).as("not skipped").isEqualTo(5);
        assertThat(waits).hasValue(1);
        assertThat(skipped).hasValue(0);
        // The registry is back: the same record is read.
        consumer.addRecord(new ConsumerRecord<>(TP.topic(), TP.partition(), 5, "k", "v"));
        assertThat(guard.poll(consumer, Duration.ofMillis(10))).extracting(ConsumerRecord::offset).containsExactly(5L);
    }

    @Test
    void bytesThatAreNotAnEventAreSkippedAndCounted() {
        consumer.setPollException(unreadable(5, new IllegalArgumentException("Unknown magic byte!")));

        assertThat(guard.poll(consumer, Duration.ofMillis(10))).isEmpty();

        assertThat(consumer.position(TP)).isEqualTo(6);
        assertThat(skipped).hasValue(1);
        assertThat(waits).hasValue(0);
    }

    @Test
    void anAvroBodyThatDoesNotDecodeIsSkippedNotTakenForARegistryOutage() {
        // Apicurio's Avro deserializer reports a body shorter than its schema this way: an I/O error, but not the
        // registry's; waiting for it would hold the partition for ever.
        consumer.setPollException(unreadable(5, new java.io.UncheckedIOException(new java.io.EOFException())));

        assertThat(guard.poll(consumer, Duration.ofMillis(10))).isEmpty();

        assertThat(consumer.position(TP)).isEqualTo(6);
        assertThat(skipped).hasValue(1);
        assertThat(waits).hasValue(0);
    }

    @Test
    void aRecordWhoseSchemaTheRegistryDoesNotKnowWaitsRatherThanBeingSkipped() {
        consumer.setPollException(unreadable(5, new IllegalStateException(new com.microsoft.kiota.ApiExceptionBuilder()
                .withMessage("No content with id '42' was found.").withResponseStatusCode(404).build())));

        assertThat(guard.poll(consumer, Duration.ofMillis(10))).isEmpty();

        assertThat(consumer.position(TP)).as("not skipped").isEqualTo(5);
        assertThat(waits).hasValue(1);
        assertThat(skipped).hasValue(0);
    }

    @Test
    void readableRecordsPassThrough() {
        consumer.addRecord(new ConsumerRecord<>(TP.topic(), TP.partition(), 5, "k", "v"));
        assertThat(guard.poll(consumer, Duration.ofMillis(10))).hasSize(1);
        assertThat(skipped).hasValue(0);
        assertThat(waits).hasValue(0);
    }

    private static RecordDeserializationException unreadable(long offset, Throwable cause) {
        return new RecordDeserializationException(TP, offset, "Error deserializing VALUE for partition "
                + TP + " at offset " + offset, cause);
    }
}
