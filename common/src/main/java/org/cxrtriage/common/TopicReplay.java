package org.cxrtriage.common;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
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
     * The offsets a consumer group has committed (what it has fully processed). Offsets a transaction has sent but
     * not yet committed or aborted are waited for (require stable), so a batch whose commit is under way counts as
     * what its transaction ends up as.
     */
    public static Map<TopicPartition, Long> committedOffsets(Settings settings, String groupId) {
        try (Admin admin = Admin.create(KafkaSettings.base(settings, "replay-admin"))) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(groupId,
                            new org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions().requireStable(true))
                    .partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, Long> out = new HashMap<>();
            offsets.forEach((tp, o) -> {
                if (o != null) {
                    out.put(tp, o.offset());
                }
            });
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted reading offsets of " + groupId, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not read offsets of " + groupId + ": " + e.getCause(), e);
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
