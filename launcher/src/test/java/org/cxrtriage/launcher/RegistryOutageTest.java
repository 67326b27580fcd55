package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.GuardedPoll;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Settings;
import org.cxrtriage.common.TopicSetup;
import org.cxrtriage.schemas.CxrLabel;
import org.cxrtriage.schemas.Topic;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A consumer whose schema registry stops answering (a proxy in front of the real one goes silent) waits and reads the
 * same records once it answers again: none skipped, none out of order, the consumer never stuck. With the stock
 * Apicurio client the first poll blocked for ever (the test's timeout fails it).
 */
@Tag("e2e")
@Timeout(120)
class RegistryOutageTest {

    @TempDir
    Path tempDir;

    @Test
    void aSilentRegistryDelaysRecordsButLosesNone() throws Exception {
        Settings settings = TestStack.isolatedSettings(tempDir);
        TopicSetup.ensureAll(settings);
        URI registry = URI.create(RegistrySettings.apicurioUrl(settings));
        try (RegistryProxy proxy = new RegistryProxy(registry)) {
            Settings viaProxy = settings.with(Map.of(CommonKeys.APICURIO_REGISTRY_URL,
                    proxy.url(registry), RegistrySettings.REGISTRY_TIMEOUT_MS, "500"));
            Properties p = KafkaSettings.consumer(settings, "outage-test", "outage-test-" + UUID.randomUUID());
            try (KafkaConsumer<String, CxrLabel> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                    RegistrySettings.serdes(viaProxy).deserializer(Topic.LABELS))) {
                List<TopicPartition> partitions = consumer.partitionsFor(Topic.LABELS.name()).stream()
                        .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
                consumer.assign(partitions);
                consumer.seekToEnd(partitions);
                partitions.forEach(consumer::position);

                List<String> sent = send(settings, 3);
                AtomicInteger waits = new AtomicInteger();
                AtomicInteger skipped = new AtomicInteger();
                GuardedPoll guard = new GuardedPoll(skipped::incrementAndGet, waits::incrementAndGet,
                        Duration.ofMillis(200));

                proxy.silent(true);
                long silentUntil = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                while (System.nanoTime() < silentUntil) {
                    assertThat(guard.poll(consumer, Duration.ofMillis(200))).as("nothing readable").isEmpty();
                }
                assertThat(waits).as("the consumer noticed the silence").hasPositiveValue();

                proxy.silent(false);
                List<String> read = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (read.size() < sent.size() && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, CxrLabel> r : guard.poll(consumer, Duration.ofMillis(200))) {
                        if (sent.contains(r.key())) {
                            read.add(r.key());
                        }
                    }
                }
                assertThat(read).as("every record, once, in order").containsExactlyElementsOf(sent);
                assertThat(skipped).hasValue(0);
            }
        }
    }

    /** Sends {@code n} labels to one partition (one key order) through the real registry. */
    private static List<String> send(Settings settings, int n) throws Exception {
        List<String> keys = new ArrayList<>();
        try (KafkaProducer<String, CxrLabel> producer = new KafkaProducer<>(
                KafkaSettings.producer(settings, "outage-test"), new StringSerializer(),
                RegistrySettings.serdes(settings).serializer(Topic.LABELS))) {
            for (int i = 0; i < n; i++) {
                String key = "outage-" + UUID.randomUUID();
                keys.add(key);
                producer.send(new ProducerRecord<>(Topic.LABELS.name(), 0, key, CxrLabel.newBuilder().setImageId(key)
                        .setPositive(i % 2 == 0).setTest("PCR")
                        .setObservedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS)).build())).get();
            }
        }
        return keys;
    }
}
