package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.Settings;
import org.cxrtriage.common.TopicReplay;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a recovery takes as processed, against the real broker: offsets a transaction has sent but not yet committed
 * are waited for, never read as "nothing processed" (the similarity service would then skip a whole partition's
 * cases when Redis lost its data while another instance was committing).
 */
@Tag("e2e")
class CommittedOffsetsTest {

    @TempDir
    Path tempDir;

    @Test
    void offsetsOfATransactionUnderWayAreWaitedForAndThenRead() throws Exception {
        Settings settings = TestStack.isolatedSettings(tempDir);
        String run = UUID.randomUUID().toString();
        String topic = "cxr.committed-offsets-test-" + run;
        String group = "committed-offsets-test-" + run;
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Admin.create(KafkaSettings.base(settings, "committed-offsets-test"));
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaSettings.transactionalProducer(
                     settings, "committed-offsets-test", "committed-offsets-test-" + run), new StringSerializer(),
                     new ByteArraySerializer())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", new byte[] {1})).get();
            producer.commitTransaction();
            assertThat(TopicReplay.committedOffsets(settings, group, List.of(topic))).as("nothing committed yet")
                    .isEmpty();

            producer.beginTransaction();
            producer.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(1)), new ConsumerGroupMetadata(group));
            long t0 = System.nanoTime();
            CompletableFuture<Map<TopicPartition, Long>> read = CompletableFuture.supplyAsync(
                    () -> TopicReplay.committedOffsets(settings, group, List.of(topic)));
            Thread.sleep(1500);
            assertThat(read).as("waiting for the transaction under way").isNotDone();
            producer.commitTransaction();

            assertThat(read.get()).containsExactly(Map.entry(tp, 1L));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThan(Duration.ofMillis(1500));
            admin.deleteTopics(List.of(topic)).all().get();
            admin.deleteConsumerGroups(List.of(group)).all().get();
        }
    }
}
