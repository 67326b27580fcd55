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
 * Whether the images topic holds an image: asked only when a send was not acknowledged (it timed out, or its ingest
 * instance died) and the broker may have written the image all the same ({@link DuplicateGuard}), so that the
 * sender's retry is neither stored a second time nor lost.
 */
public interface StoredImages {

    /**
     * True when a record keyed {@code imageId} lies between the first record stamped at or after {@code from} and
     * the first stamped at or after {@code to} (ingest stamps each image with its claim's time; the images topic keeps
     * the producer's timestamps, CreateTime).
     *
     * @throws RuntimeException when the topic cannot be read (the caller must not guess)
     */
    boolean contains(String imageId, Instant from, Instant to);

    /**
     * Reads the one partition the key maps to (the producer's default partitioner, murmur2 of the key: a
     * partitioner set through {@code KAFKA_CLIENT_*} would break this), from the first record at or after {@code from}
     * to the first at or after {@code to} (or the end). Values are not deserialised. A partition's timestamps rise
     * with its offsets but for clock differences between producers, which the caller's margins cover. Needs READ and
     * DESCRIBE on the topic where the broker enforces ACLs.
     */
    static StoredImages inTopic(Properties consumerBase, String topic, Duration timeout) {
        return (imageId, from, to) -> {
            Properties p = new Properties();
            p.putAll(consumerBase);
            p.remove(ConsumerConfig.GROUP_ID_CONFIG); // assigned, never committed
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, p.getProperty(ConsumerConfig.CLIENT_ID_CONFIG, "ingest-stored-check")
                    + "-" + java.util.UUID.randomUUID()); // lookups may run at once
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            // The ingest producer is not transactional: everything it wrote counts.
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
            // Small fetches (a batch larger than this still comes whole): lookups run beside the HTTP handlers.
            p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024 * 1024);
            p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 1024 * 1024);
            byte[] key = imageId.getBytes(StandardCharsets.UTF_8);
            long deadline = System.nanoTime() + timeout.toNanos();
            try (KafkaConsumer<String, byte[]> consumer =
                         new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
                List<PartitionInfo> partitions = consumer.partitionsFor(topic, left(deadline));
                if (partitions == null || partitions.isEmpty()) {
                    throw new IllegalStateException("topic " + topic + " has no partitions");
                }
                TopicPartition tp = new TopicPartition(topic, Utils.toPositive(Utils.murmur2(key)) % partitions.size());
                consumer.assign(List.of(tp));
                OffsetAndTimestamp first = consumer.offsetsForTimes(Map.of(tp, from.toEpochMilli()), left(deadline))
                        .get(tp);
                if (first == null) {
                    return false; // nothing written since then
                }
                OffsetAndTimestamp after = consumer.offsetsForTimes(Map.of(tp, to.toEpochMilli()), left(deadline))
                        .get(tp);
                long end = after != null ? after.offset() : consumer.endOffsets(List.of(tp), left(deadline)).get(tp);
                consumer.seek(tp, first.offset());
                Duration poll = Duration.ofMillis(500);
                while (consumer.position(tp, left(deadline)) < end) {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(left(deadline).compareTo(poll) < 0
                            ? left(deadline) : poll)) {
                        if (r.offset() < end && imageId.equals(r.key())) {
                            return true;
                        }
                    }
                }
                return false;
            }
        };
    }

    /** The time left until {@code deadline} (System.nanoTime), or a TimeoutException once it has passed. */
    private static Duration left(long deadline) {
        long nanos = deadline - System.nanoTime();
        if (nanos <= 0) {
            throw new org.apache.kafka.common.errors.TimeoutException("the topic could not be read in time");
        }
        return Duration.ofNanos(nanos);
    }
}
