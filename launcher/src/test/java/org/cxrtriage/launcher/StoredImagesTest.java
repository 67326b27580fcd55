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

/** The lookup ingest makes after a timed-out send, against the real broker's images topic. */
@Tag("e2e")
class StoredImagesTest {

    @TempDir
    Path tempDir;

    @Test
    void findsAnImageWrittenSinceTheGivenTimeInItsKeysPartitionAndNothingElse() throws Exception {
        Settings settings = TestStack.isolatedSettings(tempDir);
        // A topic of its own, partitioned as the images topic: the pipeline's consumers in later tests read that one.
        String topic = "cxr.stored-images-test-" + UUID.randomUUID();
        try (Admin admin = Admin.create(KafkaSettings.base(settings, "stored-test"))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        }
        StoredImages stored = StoredImages.inTopic(KafkaSettings.consumer(settings, "stored-test", "unused"),
                topic, Duration.ofSeconds(20));
        String written = "stored-" + UUID.randomUUID();
        String earlier = "stored-" + UUID.randomUUID();
        Instant longAgo = Instant.now().minus(Duration.ofHours(2));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaSettings.producer(settings,
                "stored-test"), new StringSerializer(), new ByteArraySerializer())) {
            // Values are never decoded by the lookup: any bytes do. Keys go to partitions as the ingest producer's do.
            producer.send(new ProducerRecord<>(topic, null, longAgo.toEpochMilli(), earlier,
                    new byte[] {1})).get();
            for (int i = 0; i < 20; i++) { // company in every partition
                producer.send(new ProducerRecord<>(topic, "other-" + UUID.randomUUID(), new byte[8]));
            }
            producer.send(new ProducerRecord<>(topic, written, new byte[] {2})).get();
        }
        Instant since = Instant.now().minus(Duration.ofMinutes(1));

        assertThat(stored.contains(written, since)).isTrue();
        assertThat(stored.contains("stored-" + UUID.randomUUID(), since)).as("never written").isFalse();
        assertThat(stored.contains(earlier, since)).as("written before the time asked about").isFalse();
        assertThat(stored.contains(earlier, longAgo.minusSeconds(1))).isTrue();
        assertThat(stored.contains(written, Instant.now().plus(Duration.ofMinutes(1)))).as("nothing since").isFalse();
    }
}
