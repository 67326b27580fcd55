package org.cxrtriage.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Schema evolution through a real Apicurio Registry (the stack of bin/test.sh; URLs from APICURIO_REGISTRY_URL and
 * SCHEMA_REGISTRY_URL as {@code scripts/stack.sh env} exports them). {@link CxrAlert} nests a record (Neighbour) and
 * enums: version 2 adds an optional field with a default, a BACKWARD-compatible change. Serializers and deserializers
 * are the pipeline's own ({@link AvroSerdes#config()}); each test uses a subject of its own.
 */
@Tag("e2e")
class SchemaEvolutionRegistryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REGISTRY_URL = env("APICURIO_REGISTRY_URL", "http://127.0.0.1:8081/apis/registry/v3");
    private static final String CCOMPAT_URL = env("SCHEMA_REGISTRY_URL",
            REGISTRY_URL.replace("/apis/registry/v3", "/apis/ccompat/v7"));
    /** CxrAlert plus {@code ward: ["null","string"] = null}. */
    private static final Schema V2 = withOptionalField(CxrAlert.getClassSchema(), "ward");

    private final AvroSerdes serdes = new AvroSerdes(REGISTRY_URL);
    private final SchemaRegistrar registrar = new SchemaRegistrar(REGISTRY_URL, CCOMPAT_URL);

    @Test
    void evolvedNestedSchemaRegisteredAtStartIsANewVersionAndBothVersionsRead() {
        Topic<CxrAlert> topic = uniqueTopic();
        CxrAlert alert = alert("a-1");
        // A running v1 producer registers its schema on first use, and the services register it again at start.
        byte[] v1Bytes = serdes.serializer(topic).serialize(topic.name(), alert);
        int v1Id = registrar.register(topic);
        assertThat(schemaId(v1Bytes)).as("the serializer and the registrar use one version").isEqualTo(v1Id);
        assertThat(registrar.compatibility(topic.valueSubject())).isEqualTo("BACKWARD");

        // The upgraded services register v2 at start: accepted as a new version of the same subject.
        int v2Id = registrar.register(topic.valueSubject(), V2);
        assertThat(v2Id).isNotEqualTo(v1Id);
        assertThat(versionCount(topic.valueSubject())).isEqualTo(2);
        byte[] v2Bytes = genericSerializer().serialize(topic.name(), asV2(alert, "ward 7"));
        assertThat(schemaId(v2Bytes)).isEqualTo(v2Id);
        // Restarting v1 services while v2 is the latest version finds v1 again rather than adding a version.
        assertThat(registrar.register(topic)).isEqualTo(v1Id);
        assertThat(versionCount(topic.valueSubject())).isEqualTo(2);

        assertBothConsumersRead(topic, alert, v1Bytes, v2Bytes, "ward 7");
    }

    /**
     * Every service registers every topic when it starts, and `docker compose up` starts them together: the first
     * registrations of a subject race. Each must end with the one version, the one id and the BACKWARD rule, not with
     * the 409 a concurrent registrar's rule or artifact gave (which crashed all services once on first start).
     */
    @Test
    void servicesStartingTogetherRegisterTheSameSubjectsWithoutConflict() throws Exception {
        List<Topic<?>> topics = List.of(uniqueTopic(), uniqueTopic(), uniqueTopic());
        int services = 6;
        ExecutorService pool = Executors.newFixedThreadPool(services);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Map<String, Integer>>> starts = new ArrayList<>();
            for (int i = 0; i < services; i++) {
                starts.add(pool.submit(() -> {
                    start.await();
                    return new SchemaRegistrar(REGISTRY_URL, CCOMPAT_URL).registerAll(topics);
                }));
            }
            start.countDown();
            Map<String, Integer> first = starts.get(0).get(60, TimeUnit.SECONDS);
            for (Future<Map<String, Integer>> other : starts) {
                assertThat(other.get(60, TimeUnit.SECONDS)).isEqualTo(first);
            }
        } finally {
            pool.shutdownNow();
        }
        for (Topic<?> topic : topics) {
            assertThat(versionCount(topic.valueSubject())).isEqualTo(1);
            assertThat(registrar.compatibility(topic.valueSubject())).isEqualTo("BACKWARD");
        }
    }

    @Test
    void evolvedNestedSchemaAutoRegisteredByTheSerializerIsAcceptedAndIncompatibleOnesAreNot() {
        Topic<CxrAlert> topic = uniqueTopic();
        CxrAlert alert = alert("a-2");
        int v1Id = registrar.register(topic);
        byte[] v1Bytes = serdes.serializer(topic).serialize(topic.name(), alert);
        assertThat(schemaId(v1Bytes)).isEqualTo(v1Id);

        // A v2 producer that starts before anything registered v2 registers it itself.
        byte[] v2Bytes = genericSerializer().serialize(topic.name(), asV2(alert, "ward 3"));
        assertThat(schemaId(v2Bytes)).isNotEqualTo(v1Id);
        assertThat(registrar.register(topic.valueSubject(), V2)).isEqualTo(schemaId(v2Bytes));

        // The compatibility rule still applies: a new required field without a default is refused.
        Schema incompatible = withRequiredField(V2, "isolationRoom");
        assertThatThrownBy(() -> registrar.register(topic.valueSubject(), incompatible))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("RuleViolationException");

        assertBothConsumersRead(topic, alert, v1Bytes, v2Bytes, "ward 3");
    }

    /**
     * Subjects written before this fix hold versions in the serializer's old form: the nested named types split off
     * into artifacts of their own and referenced by name. A self-contained new version used to be refused with 422,
     * because the registry parses the existing version with the references of the new one.
     */
    @Test
    void subjectsHoldingTheOldReferencedFormAcceptNewVersions() throws Exception {
        Topic<CxrAlert> topic = uniqueTopic();
        CxrAlert alert = alert("a-3");
        byte[] legacyBytes = legacySerdes().serializer(topic).serialize(topic.name(), alert);
        assertThat(http("GET", REGISTRY_URL + "/groups/default/artifacts/" + topic.valueSubject()
                + "/versions/branch=latest/references", null)).as("the old form has references").isNotEqualTo("[]");
        http("PUT", CCOMPAT_URL + "/config/" + topic.valueSubject(), "{\"compatibility\":\"BACKWARD\"}");

        int v1Id = registrar.register(topic);
        byte[] v1Bytes = serdes.serializer(topic).serialize(topic.name(), alert);
        assertThat(schemaId(v1Bytes)).isEqualTo(v1Id);
        // Bridged once: the next start registers nothing new.
        int versions = versionCount(topic.valueSubject());
        assertThat(registrar.register(topic)).isEqualTo(v1Id);
        assertThat(versionCount(topic.valueSubject())).isEqualTo(versions);

        int v2Id = registrar.register(topic.valueSubject(), V2);
        byte[] v2Bytes = genericSerializer().serialize(topic.name(), asV2(alert, "ward 9"));
        assertThat(schemaId(v2Bytes)).isEqualTo(v2Id);
        assertThat(registrar.register(topic.valueSubject(), V2)).isEqualTo(v2Id);
        assertThat(registrar.register(topic)).isEqualTo(v1Id);
        assertThat(versionCount(topic.valueSubject())).isEqualTo(versions + 1);

        assertBothConsumersRead(topic, alert, v1Bytes, v2Bytes, "ward 9");
        // Events written in the old form stay readable.
        assertThat(serdes.deserializer(topic).deserialize(topic.name(), legacyBytes)).isEqualTo(alert);
    }

    /** An old producer still running during an upgrade adds its referenced form after the self-contained one. */
    @Test
    void aReferencedVersionAddedByAnOldProducerIsBridgedOnce() {
        Topic<CxrAlert> topic = uniqueTopic();
        CxrAlert alert = alert("a-4");
        int v1Id = registrar.register(topic);
        byte[] legacyBytes = legacySerdes().serializer(topic).serialize(topic.name(), alert);
        assertThat(schemaId(legacyBytes)).as("a second version, in the old form").isNotEqualTo(v1Id);
        int versions = versionCount(topic.valueSubject());

        assertThat(registrar.register(topic)).isEqualTo(v1Id);
        assertThat(registrar.register(topic)).isEqualTo(v1Id);
        assertThat(versionCount(topic.valueSubject())).as("one bridge version").isEqualTo(versions + 1);
        int v2Id = registrar.register(topic.valueSubject(), V2);
        byte[] v2Bytes = genericSerializer().serialize(topic.name(), asV2(alert, "ward 2"));
        assertThat(schemaId(v2Bytes)).isEqualTo(v2Id);
        assertBothConsumersRead(topic, alert, serdes.serializer(topic).serialize(topic.name(), alert), v2Bytes,
                "ward 2");
        assertThat(serdes.deserializer(topic).deserialize(topic.name(), legacyBytes)).isEqualTo(alert);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** The serializer as configured before the fix: nested named types registered as separate artifacts. */
    private static AvroSerdes legacySerdes() {
        return new AvroSerdes(REGISTRY_URL, AvroSerdes.DEFAULT_SERIALIZER, AvroSerdes.DEFAULT_DESERIALIZER,
                Map.of("apicurio.registry.dereference-schema", "false"));
    }

    /** A consumer built on v1 (the generated class) and one on v2 both read what v1 and v2 producers wrote. */
    private void assertBothConsumersRead(Topic<CxrAlert> topic, CxrAlert alert, byte[] v1Bytes, byte[] v2Bytes,
                                         String ward) {
        Deserializer<CxrAlert> v1Consumer = serdes.deserializer(topic);
        assertThat(v1Consumer.deserialize(topic.name(), v1Bytes)).isEqualTo(alert);
        assertThat(v1Consumer.deserialize(topic.name(), v2Bytes)).isEqualTo(alert);

        GenericRecord oldEvent = readAsV2(v1Bytes);
        assertThat(oldEvent.get("ward")).as("default for events written before v2").isNull();
        assertThat(oldEvent.get("alertId")).hasToString(alert.getAlertId());
        GenericRecord newEvent = readAsV2(v2Bytes);
        assertThat(newEvent.get("ward")).hasToString(ward);
        assertThat(newEvent.get("alertId")).hasToString(alert.getAlertId());
        assertThat(((List<?>) newEvent.get("neighbours"))).hasSize(1);
    }

    /** A v2 consumer: the writer schema comes from the registry by the id in the bytes, the reader schema is v2. */
    private GenericRecord readAsV2(byte[] bytes) {
        Schema writer = new Schema.Parser().parse(registrar.schemaById(schemaId(bytes)));
        try {
            return new GenericDatumReader<GenericRecord>(writer, V2).read(null,
                    DecoderFactory.get().binaryDecoder(Arrays.copyOfRange(bytes, 5, bytes.length), null));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private Serializer<GenericRecord> genericSerializer() {
        Serializer<GenericRecord> s = new AvroKafkaSerializer<>();
        s.configure(serdes.config(), false);
        return s;
    }

    private static GenericRecord asV2(CxrAlert alert, String ward) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            new SpecificDatumWriter<CxrAlert>(CxrAlert.getClassSchema()).write(alert, enc);
            enc.flush();
            GenericRecord r = new GenericDatumReader<GenericRecord>(CxrAlert.getClassSchema(), V2).read(null,
                    DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
            r.put("ward", ward);
            return r;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static int schemaId(byte[] bytes) {
        assertThat(bytes[0]).as("magic byte").isEqualTo((byte) 0);
        return ByteBuffer.wrap(bytes, 1, 4).getInt();
    }

    private static int versionCount(String subject) {
        try {
            return JSON.readTree(http("GET", CCOMPAT_URL + "/subjects/" + subject + "/versions", null)).size();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static Topic<CxrAlert> uniqueTopic() {
        return new Topic<>("test.evolution-" + UUID.randomUUID(), CxrAlert.class, "patientRef");
    }

    private static CxrAlert alert(String id) {
        Instant t = Instant.parse("2026-11-25T10:00:00Z");
        Neighbour n = Neighbour.newBuilder().setImageId("img-n").setPatientRef("p-other").setSiteId("site-a")
                .setDistance(0.5f).setProbability(0.8f).setPositive(true).setScoredAt(t).build();
        return CxrAlert.newBuilder().setAlertId(id).setPatientRef("p-1").setSiteId("site-a").setImageId("img-1")
                .setProbability(0.91f).setKnnVote(0.75f).setNeighbours(List.of(n)).setFirstSeen(t).setLastSeen(t)
                .setRaisedAt(t).setRule("probability >= threshold").build();
    }

    private static Schema withOptionalField(Schema schema, String name) {
        ObjectNode field = JSON.createObjectNode().put("name", name);
        field.putArray("type").add("null").add("string");
        field.putNull("default");
        return withField(schema, field);
    }

    private static Schema withRequiredField(Schema schema, String name) {
        return withField(schema, JSON.createObjectNode().put("name", name).put("type", "string"));
    }

    private static Schema withField(Schema schema, ObjectNode field) {
        try {
            ObjectNode json = (ObjectNode) JSON.readTree(schema.toString());
            ((ArrayNode) json.get("fields")).add(field);
            return new Schema.Parser().parse(json.toString());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String http(String method, String url, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(method + " " + url + ": " + r.body()).isBetween(200, 299);
            return r.body();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
