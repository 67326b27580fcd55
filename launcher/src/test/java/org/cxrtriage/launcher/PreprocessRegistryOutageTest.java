package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.JsonProperties;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Settings;
import org.cxrtriage.common.TopicReplay;
import org.cxrtriage.common.TopicSetup;
import org.cxrtriage.ingest.FolderSource;
import org.cxrtriage.preprocess.PreprocessService;
import org.cxrtriage.schemas.ImageReceived;
import org.cxrtriage.schemas.Topic;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The preprocessing stream meets an image written with a schema version it has not seen while its registry is silent
 * (a proxy in front of the real one). The stream thread fails and is replaced until the registry answers, and then
 * the image becomes a tensor: it is neither dead-lettered nor lost. (With the stock client the stream thread waited for
 * ever; with Kafka Streams' log-and-continue handler the image went to the dead-letter topic.)
 */
@Tag("e2e")
@Timeout(240)
class PreprocessRegistryOutageTest {

    @TempDir
    Path tempDir;

    @Test
    void anImageUnreadableWhileTheRegistryIsSilentIsPreprocessedAfterwardsAndNotDeadLettered() throws Exception {
        Path data = TestStack.dataDir();
        Assumptions.assumeTrue(Files.isRegularFile(data.resolve("manifest.csv")), "shared data set not found at " + data);
        Settings settings = TestStack.isolatedSettings(tempDir);
        TopicSetup.ensureAll(settings);
        // A newer version of the image schema (one optional field more), registered now: no service has its id yet.
        Schema v2 = withOptionalField(ImageReceived.getClassSchema(), "ward");
        int v2Id = RegistrySettings.registrar(settings).register(Topic.IMAGES.valueSubject(), v2);
        FolderSource.Item xray = FolderSource.list(data.resolve("images"),
                FolderSource.findManifest(data.resolve("images"))).get(0);
        String imageId = "outage-" + UUID.randomUUID();
        byte[] v2Bytes = wireBytes(v2Id, image(imageId, Files.readAllBytes(xray.file())));

        URI registry = URI.create(RegistrySettings.apicurioUrl(settings));
        try (RegistryProxy proxy = new RegistryProxy(registry);
             PreprocessService preprocess = new PreprocessService(settings.with(Map.of(
                     CommonKeys.APICURIO_REGISTRY_URL, proxy.url(registry),
                     RegistrySettings.REGISTRY_TIMEOUT_MS, "500")))) {
            preprocess.start();
            proxy.silent(true);
            send(settings, imageId, v2Bytes);
            Thread.sleep(5_000);
            assertThat(keysOf(settings, Topic.TENSORS.name())).as("nothing readable while silent")
                    .doesNotContain(imageId);

            proxy.silent(false);
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (!keysOf(settings, Topic.TENSORS.name()).contains(imageId) && System.nanoTime() < deadline) {
                Thread.sleep(1_000);
            }
            assertThat(keysOf(settings, Topic.TENSORS.name())).as("preprocessed once the registry answered")
                    .containsOnlyOnce(imageId);
            assertThat(keysOf(settings, TopicSetup.DEAD_LETTER_TOPIC)).as("not dead-lettered").doesNotContain(imageId);
        }
    }

    private static void send(Settings settings, String key, byte[] value) throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaSettings.producer(settings, "outage-test"), new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topic.IMAGES.name(), key, value)).get();
        }
    }

    /** Keys of the topic's committed records. */
    private static List<String> keysOf(Settings settings, String topic) {
        List<String> keys = new ArrayList<>();
        TopicReplay.read(settings, topic, new ByteArrayDeserializer(), null, r -> keys.add(r.key()));
        return keys;
    }

    private static ImageReceived image(String id, byte[] png) {
        return ImageReceived.newBuilder().setImageId(id).setStudyId("outage-study").setPatientRef("p-outage")
                .setSiteId("outage-site").setViewPosition("PA").setReceivedAt(Instant.now())
                .setContentType("image/png").setSha256("x").setWidth(0).setHeight(0)
                .setImageBytes(ByteBuffer.wrap(png)).build();
    }

    /**
     * The wire format of {@code image} written with the v2 schema: v2 only appends an optional field, so its Avro
     * binary is v1's followed by the union branch of null (one zero byte).
     */
    private static byte[] wireBytes(int schemaId, ImageReceived image) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(schemaId).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(ImageReceived.class).write(image, encoder);
        encoder.flush();
        out.write(0);
        return out.toByteArray();
    }

    private static Schema withOptionalField(Schema schema, String name) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : schema.getFields()) {
            fields.add(new Schema.Field(f, f.schema()));
        }
        fields.add(new Schema.Field(name, Schema.createUnion(Schema.create(Schema.Type.NULL),
                Schema.create(Schema.Type.STRING)), null, JsonProperties.NULL_VALUE));
        return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }
}
