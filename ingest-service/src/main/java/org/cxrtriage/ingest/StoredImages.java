package org.cxrtriage.ingest;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;

/**
 * Whether the images topic holds an image: asked only when a send timed out and the broker may have written the
 * image without acknowledging it ({@link DuplicateGuard}), so that the sender's retry is neither stored a second time
 * nor lost.
 */
public interface StoredImages {

    /**
     * True when a record keyed {@code imageId} was written at or after {@code since}.
     *
     * @throws RuntimeException when the topic cannot be read (the caller must not guess)
     */
    boolean contains(String imageId, Instant since);

    /**
     * Reads the one partition the key maps to (the producer's default partitioner: murmur2 of the key), from the
     * first record at or after {@code since} to the end offset taken when asked. Values are not deserialised.
     */
    static StoredImages inTopic(Properties consumerBase, String topic, Duration timeout) {
        return (imageId, since) -> {
            Properties p = new Properties();
            p.putAll(consumerBase);
            p.remove(ConsumerConfig.GROUP_ID_CONFIG); // assigned, never committed
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            // The ingest producer is not transactional: everything it wrote counts.
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
            byte[] key = imageId.getBytes(StandardCharsets.UTF_8);
            long deadline = System.nanoTime() + timeout.toNanos();
            try (KafkaConsumer<String, byte[]> consumer =
                         new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
                List<PartitionInfo> partitions = consumer.partitionsFor(topic, timeout);
                TopicPartition tp = new TopicPartition(topic, Utils.toPositive(Utils.murmur2(key)) % partitions.size());
                consumer.assign(List.of(tp));
                long end = consumer.endOffsets(List.of(tp), timeout).get(tp);
                OffsetAndTimestamp from = consumer.offsetsForTimes(Map.of(tp, since.toEpochMilli()), timeout).get(tp);
                if (from == null) {
                    return false; // nothing written since then
                }
                consumer.seek(tp, from.offset());
                while (consumer.position(tp, timeout) < end) {
                    if (System.nanoTime() > deadline) {
                        throw new org.apache.kafka.common.errors.TimeoutException(
                                "could not read " + topic + " to its end within " + timeout);
                    }
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        if (r.offset() < end && imageId.equals(r.key())) {
                            return true;
                        }
                    }
                }
                return false;
            }
        };
    }
}
