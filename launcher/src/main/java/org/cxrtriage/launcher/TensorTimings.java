package org.cxrtriage.launcher;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.cxrtriage.common.GuardedPoll;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Settings;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.Topic;

/**
 * When the preprocess stream started and finished each image, read back from the tensors topic after a benchmark
 * phase (not during it, so that fetching the tensors does not compete with the pipeline for the cores).
 */
final class TensorTimings {

    /** Epoch ms the stream started work on the image (decode), and finished it (tensor built). */
    record Times(long startedAt, long preprocessedAt) {
    }

    private TensorTimings() {
    }

    /** The times of {@code ids}, read from the records appended since {@code since} up to the topic's current end. */
    static Map<String, Times> read(Settings settings, Set<String> ids, java.time.Instant since) {
        Properties p = KafkaSettings.consumer(settings, "bench-tensor-timings", "cxr-bench-timings-" + UUID.randomUUID());
        Deserializer<ImageTensor> tensors = RegistrySettings.serdes(settings).deserializer(Topic.TENSORS);
        Map<String, Times> times = new HashMap<>();
        try (KafkaConsumer<String, ImageTensor> consumer = new KafkaConsumer<>(p, new StringDeserializer(), tensors)) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topic.TENSORS.name()).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> from = new HashMap<>();
            partitions.forEach(tp -> from.put(tp, since.toEpochMilli()));
            // Only the phase's records: the topic also holds every warm-up image (hundreds of MB).
            consumer.offsetsForTimes(from).forEach((tp, found) -> consumer.seek(tp,
                    found == null ? end.get(tp) : found.offset()));
            long deadline = System.currentTimeMillis() + Duration.ofMinutes(2).toMillis();
            GuardedPoll guard = GuardedPoll.uncounted();
            while (times.size() < ids.size() && System.currentTimeMillis() < deadline
                    && partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, ImageTensor> r : guard.poll(consumer, Duration.ofMillis(500))) {
                    ImageTensor t = r.value();
                    if (t != null && ids.contains(t.getImageId())) {
                        long work = Math.round(t.getDecodeMs() + t.getNormaliseMs() + t.getLungMs());
                        long done = t.getPreprocessedAt().toEpochMilli();
                        times.put(t.getImageId(), new Times(done - work, done));
                    }
                }
            }
        }
        return times;
    }
}
