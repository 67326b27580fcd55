package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.Settings;
import org.cxrtriage.ingest.StoredImages;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lookup ingest makes after an unacknowledged send, against the real broker. */
@Tag("e2e")
class StoredImagesTest {

    @TempDir
    Path tempDir;

    @Test
    void findsAnImageStampedWithinTheSpanInItsKeysPartitionAndNothingOutsideIt() throws Exception {
        Settings settings = TestStack.isolatedSettings(tempDir);
        // A topic of its own, partitioned like the images topic: the pipeline's consumers in later tests read that one.
        String topic = "cxr.stored-images-test-" + UUID.randomUUID();
        try (Admin admin = Admin.create(KafkaSettings.base(settings, "stored-test"))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        }
        StoredImages stored = StoredImages.inTopic(KafkaSettings.consumer(settings, "stored-test", "unused"), topic,
                Duration.ofSeconds(20));
        Instant t = Instant.now().minus(Duration.ofMinutes(30));
        String atT = "stored-" + UUID.randomUUID();
        String earlier = "stored-" + UUID.randomUUID();
        String appendedLate = "stored-" + UUID.randomUUID();
        String later = "stored-" + UUID.randomUUID();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaSettings.producer(settings,
                "stored-test"), new StringSerializer(), new ByteArraySerializer())) {
            // Values are never decoded by the lookup: any bytes do. Keys go to partitions as the ingest producer's do.
            send(producer, topic, earlier, t.minus(Duration.ofHours(2)));
            send(producer, topic, atT, t);
            for (int i = 0; i < 30; i++) { // company in every partition
                send(producer, topic, "other-" + UUID.randomUUID(), t.plusSeconds(i));
            }
            // Stamped at t but appended after records stamped later: a send that waited for room in the buffer.
            send(producer, topic, appendedLate, t.plusMillis(1));
            send(producer, topic, later, t.plus(Duration.ofMinutes(10)));
            producer.flush();
        }
        Instant to = t.plus(Duration.ofMinutes(5));

        assertThat(stored.contains(atT, t, to)).isTrue();
        assertThat(stored.contains(appendedLate, t, to)).as("appended after later stamps, within the span").isTrue();
        assertThat(stored.contains("stored-" + UUID.randomUUID(), t, to)).as("never written").isFalse();
        assertThat(stored.contains(earlier, t, to)).as("stamped before the span").isFalse();
        assertThat(stored.contains(later, t, to)).as("stamped after the span").isFalse();
        assertThat(stored.contains(earlier, t.minus(Duration.ofHours(3)), to)).isTrue();
        assertThat(stored.contains(atT, Instant.now().plus(Duration.ofMinutes(1)), Instant.now().plus(
                Duration.ofMinutes(2)))).as("nothing since").isFalse();
    }

    private static void send(KafkaProducer<String, byte[]> producer, String topic, String key, Instant stamp)
            throws Exception {
        producer.send(new ProducerRecord<>(topic, null, stamp.toEpochMilli(), key, new byte[] {1})).get();
    }
}
