package org.cxrtriage.schemas;

import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The one place where topic value serdes are configured. By default Apicurio's Avro serdes write the Confluent wire
 * format (magic byte 0, 4-byte schema id, Avro binary) and resolve ids through the registry. The classes can be
 * swapped by name (e.g. Confluent's KafkaAvroSerializer) without code changes.
 */
public final class AvroSerdes implements TopicSerdes {

    public static final String DEFAULT_SERIALIZER = "io.apicurio.registry.serde.avro.AvroKafkaSerializer";
    public static final String DEFAULT_DESERIALIZER = "io.apicurio.registry.serde.avro.AvroKafkaDeserializer";

    private final String registryUrl;
    private final String serializerClass;
    private final String deserializerClass;
    private final Map<String, Object> extraConfig;

    /**
     * @param registryUrl       Apicurio core API base, e.g. http://127.0.0.1:8081/apis/registry/v3
     * @param serializerClass   value serializer class name
     * @param deserializerClass value deserializer class name
     * @param extraConfig       added to (and overriding) the serde configuration
     */
    public AvroSerdes(String registryUrl, String serializerClass, String deserializerClass,
                      Map<String, ?> extraConfig) {
        this.registryUrl = registryUrl;
        this.serializerClass = serializerClass;
        this.deserializerClass = deserializerClass;
        this.extraConfig = Map.copyOf(extraConfig);
    }

    public AvroSerdes(String registryUrl) {
        this(registryUrl, DEFAULT_SERIALIZER, DEFAULT_DESERIALIZER, Map.of());
    }

    /** Serde configuration for values; also what the services pass to their producers/consumers. */
    public Map<String, Object> config() {
        Map<String, Object> c = new HashMap<>();
        c.put("apicurio.registry.url", registryUrl);
        // A producer finds the version whose content is exactly its own schema (SchemaRegistrar registers the same
        // text at start, see registeredForm) and registers it if no version has it yet; subjects get BACKWARD
        // compatibility from SchemaRegistrar, which the registry applies to these registrations too.
        c.put("apicurio.registry.auto-register", "true");
        c.put("apicurio.registry.find-latest", "false");
        // One self-contained schema per version. By default the serializer splits nested named types (Neighbour,
        // the enums) off into artifacts of their own and registers a text that refers to them by name; the registry
        // then parses that version with the references of whatever version is proposed next, so a self-contained new
        // version failed its compatibility check with 422 and the two forms gave one schema two ids.
        c.put("apicurio.registry.dereference-schema", "true");
        // Deserialize into the generated classes rather than GenericRecord.
        c.put("apicurio.registry.use-specific-avro-reader", "true");
        // Confluent schema ids (4 bytes) are content ids, as the ccompat API exposes them.
        c.put("apicurio.registry.use-id", "contentId");
        c.put("apicurio.registry.id-handler", "io.apicurio.registry.serde.Default4ByteIdHandler");
        // Registry requests with a time limit: the stock client can wait forever on a silent connection.
        c.put("apicurio.registry.schema-resolver", TimeBoundSchemaResolver.class.getName());
        // Confluent client property names, so a swapped-in Confluent serde works with the same map.
        c.put("schema.registry.url", registryUrl.replace("/apis/registry/v3", "/apis/ccompat/v7"));
        c.put("specific.avro.reader", "true");
        c.putAll(extraConfig);
        return c;
    }

    /**
     * The schema text the serializer registers and looks up for a value schema (with dereference-schema: the whole
     * schema, nested types inline, exactly as Avro prints it). SchemaRegistrar registers this same text, so both end
     * up on one version and one id.
     */
    public static String registeredForm(Schema schema) {
        return schema.toString();
    }

    public <V extends SpecificRecord> Serializer<V> serializer(Topic<V> topic) {
        Serializer<V> s = instantiate(serializerClass);
        s.configure(config(), false);
        return s;
    }

    /** One serializer for producers that write several topics (the subject follows the topic name). */
    public Serializer<SpecificRecord> anySerializer() {
        Serializer<SpecificRecord> s = instantiate(serializerClass);
        s.configure(config(), false);
        return s;
    }

    public <V extends SpecificRecord> Deserializer<V> deserializer(Topic<V> topic) {
        Deserializer<V> d = instantiate(deserializerClass);
        d.configure(config(), false);
        return d;
    }

    @Override
    public <V extends SpecificRecord> Serde<V> serde(Topic<V> topic) {
        return Serdes.serdeFrom(serializer(topic), deserializer(topic));
    }

    @SuppressWarnings("unchecked")
    private static <T> T instantiate(String className) {
        try {
            return (T) Class.forName(className).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("cannot create serde class " + className, e);
        }
    }
}
