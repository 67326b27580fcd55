package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Settings;
import org.cxrtriage.common.TopicSetup;
import org.cxrtriage.schemas.CxrLabel;
import org.cxrtriage.schemas.SchemaRegistrar;
import org.cxrtriage.schemas.Topic;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bytes on a topic are Confluent wire format, and the schema id resolves through the ccompat API. */
@Tag("e2e")
class WireFormatTest {

    @TempDir
    Path tempDir;

    @Test
    void eventsAreMagicByteSchemaIdAvroBinaryResolvableThroughTheRegistry() throws Exception {
        Settings settings = TestStack.isolatedSettings(tempDir);
        TopicSetup.ensureAll(settings);
        SchemaRegistrar registrar = RegistrySettings.registrar(settings);
        for (Topic<?> t : Topic.all()) {
            assertThat(registrar.compatibility(t.valueSubject())).as(t.valueSubject()).isEqualTo("BACKWARD");
        }

        String key = "wire-" + UUID.randomUUID();
        CxrLabel label = CxrLabel.newBuilder().setImageId(key).setPositive(true).setTest("PCR")
                .setObservedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS)).build();
        try (KafkaProducer<String, CxrLabel> producer = new KafkaProducer<>(KafkaSettings.producer(settings, "wire-test"),
                new StringSerializer(), RegistrySettings.serdes(settings).serializer(Topic.LABELS))) {
            producer.send(new ProducerRecord<>(Topic.LABELS.name(), key, label)).get();
        }

        Properties p = KafkaSettings.consumer(settings, "wire-test", "wire-test-" + UUID.randomUUID());
        byte[] raw = null;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topic.LABELS.name()));
            long deadline = System.currentTimeMillis() + 30_000;
            while (raw == null && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (key.equals(r.key())) {
                        raw = r.value();
                    }
                }
            }
        }
        assertThat(raw).as("record read back").isNotNull();
        assertThat(raw[0]).as("magic byte").isEqualTo((byte) 0);
        int schemaId = ByteBuffer.wrap(raw, 1, 4).getInt();
        Schema registered = new Schema.Parser().parse(registrar.schemaById(schemaId));
        assertThat(registered).isEqualTo(CxrLabel.getClassSchema());
        CxrLabel decoded = new SpecificDatumReader<CxrLabel>(registered, CxrLabel.getClassSchema())
                .read(null, DecoderFactory.get().binaryDecoder(Arrays.copyOfRange(raw, 5, raw.length), null));
        assertThat(decoded).isEqualTo(label);
    }

    @Test
    void theTopicsThatRecordCasesAreKeptForGood() throws Exception {
        Settings settings = TestStack.isolatedSettings(tempDir);
        TopicSetup.ensureAll(settings);
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                KafkaSettings.base(settings, "wire-test-admin"))) {
            for (Topic<?> t : TopicSetup.CASE_TOPICS) {
                var resource = new org.apache.kafka.common.config.ConfigResource(
                        org.apache.kafka.common.config.ConfigResource.Type.TOPIC, t.name());
                var config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
                assertThat(config.get("retention.ms").value()).as(t.name()).isEqualTo("-1");
            }
            var images = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, Topic.IMAGES.name());
            assertThat(admin.describeConfigs(List.of(images)).all().get().get(images).get("retention.ms").value())
                    .as("X-rays keep the broker's retention").isNotEqualTo("-1");
        }
    }
}
