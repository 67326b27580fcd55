package org.cxrtriage.common;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a topic's committed records from the start, without a consumer group: how state kept outside Kafka (the
 * Redis case store) is rebuilt from the topics that are its source of truth.
 */
public final class TopicReplay {

    private TopicReplay() {
    }

    /**
     * The offsets a consumer group has committed on the partitions of {@code topics} (what it has fully processed; a
     * partition without any is absent). Offsets a transaction has sent but not yet committed or aborted are waited for:
     * a read_committed consumer asks for stable offsets and retries while some are pending (the admin client would
     * leave such a partition out of its answer instead, which reads as "nothing processed").
     */
    public static Map<TopicPartition, Long> committedOffsets(Settings settings, String groupId,
                                                             java.util.Collection<String> topics) {
        Properties p = KafkaSettings.consumer(settings, "replay-offsets", groupId);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            java.util.Set<TopicPartition> partitions = new java.util.HashSet<>();
            for (String topic : topics) {
                consumer.partitionsFor(topic, Duration.ofSeconds(30))
                        .forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
            }
            // Not joining the group (no subscribe): only its offsets are read.
            Map<TopicPartition, OffsetAndMetadata> offsets = consumer.committed(partitions, Duration.ofSeconds(60));
            Map<TopicPartition, Long> out = new HashMap<>();
            offsets.forEach((tp, o) -> {
                if (o != null) {
                    out.put(tp, o.offset());
                }
            });
            return out;
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new IllegalStateException("could not read the committed offsets of " + groupId
                    + " (a transaction of the group still pending?): " + e, e);
        }
    }

    /**
     * Hands every committed record of {@code topic} to {@code sink}, partition by partition, up to {@code until}
     * (exclusive, per partition; a partition missing there is skipped) or, when {@code until} is null, up to the
     * end. Returns how many records were read.
     */
    public static <V> long read(Settings settings, String topic, Deserializer<V> values,
                                Map<TopicPartition, Long> until, Consumer<ConsumerRecord<String, V>> sink) {
        return read(settings, topic, values, until, true, sink);
    }

    /**
     * As {@link #read(Settings, String, Deserializer, Map, Consumer)}; with {@code committedOnly} false it also hands
     * over records of aborted transactions (what an audit counts to show that a retry happened and was hidden).
     */
    public static <V> long read(Settings settings, String topic, Deserializer<V> values,
                                Map<TopicPartition, Long> until, boolean committedOnly,
                                Consumer<ConsumerRecord<String, V>> sink) {
        Properties p = KafkaSettings.base(settings, "replay-" + topic);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, committedOnly ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, KafkaSettings.MAX_RECORD_BYTES);
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, KafkaSettings.MAX_RECORD_BYTES);
        long count = 0;
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(p, new StringDeserializer(), values)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            Map<TopicPartition, Long> targets = new HashMap<>();
            for (TopicPartition tp : partitions) {
                long end = ends.getOrDefault(tp, 0L);
                long target = until == null ? end : Math.min(end, until.getOrDefault(tp, 0L));
                if (target > 0) {
                    targets.put(tp, target);
                }
            }
            if (targets.isEmpty()) {
                return 0;
            }
            consumer.assign(targets.keySet());
            consumer.seekToBeginning(targets.keySet());
            GuardedPoll guard = GuardedPoll.uncounted();
            while (!targets.isEmpty()) {
                for (ConsumerRecord<String, V> r : guard.poll(consumer, Duration.ofMillis(500))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    Long target = targets.get(tp);
                    if (target != null && r.offset() < target) {
                        sink.accept(r);
                        count++;
                    }
                }
                // Positions skip transaction markers and aborted records, so compare positions, not offsets.
                targets.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
                consumer.pause(consumer.assignment().stream().filter(tp -> !targets.containsKey(tp)).toList());
            }
        }
        return count;
    }
}
