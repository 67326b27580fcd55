package org.cxrtriage.common;

import java.util.HashMap;
import java.util.Map;
import org.cxrtriage.schemas.AvroSerdes;
import org.cxrtriage.schemas.SchemaRegistrar;
import org.cxrtriage.schemas.TimeBoundSchemaResolver;

/** Builds the serdes and the schema registrar from the environment, so every service configures them alike. */
public final class RegistrySettings {

    /** Value serializer class name (swap for another registry's serde without code changes). */
    public static final String VALUE_SERIALIZER = "VALUE_SERIALIZER_CLASS";
    public static final String VALUE_DESERIALIZER = "VALUE_DESERIALIZER_CLASS";
    /** Extra serde properties: SERDE_apicurio.registry.auth.username=... is passed as apicurio.registry.auth.username. */
    public static final String SERDE_PREFIX = "SERDE_";
    /** Milliseconds a schema registry request may wait for a connection, and then for an answer. */
    public static final String REGISTRY_TIMEOUT_MS = "REGISTRY_TIMEOUT_MS";

    private RegistrySettings() {
    }

    public static String apicurioUrl(Settings settings) {
        return settings.string(CommonKeys.APICURIO_REGISTRY_URL, CommonKeys.DEFAULT_APICURIO_URL);
    }

    public static String ccompatUrl(Settings settings) {
        return settings.string(CommonKeys.SCHEMA_REGISTRY_URL,
                apicurioUrl(settings).replace("/apis/registry/v3", "/apis/ccompat/v7"));
    }

    public static AvroSerdes serdes(Settings settings) {
        Map<String, Object> extra = serdeConfigs(settings);
        return new AvroSerdes(apicurioUrl(settings),
                settings.string(VALUE_SERIALIZER, AvroSerdes.DEFAULT_SERIALIZER),
                settings.string(VALUE_DESERIALIZER, AvroSerdes.DEFAULT_DESERIALIZER),
                extra);
    }

    /** Registers schemas with the same credentials as the serdes ({@code SERDE_apicurio.registry.auth.*}). */
    public static SchemaRegistrar registrar(Settings settings) {
        Map<String, String> serde = settings.withPrefix(SERDE_PREFIX);
        return new SchemaRegistrar(apicurioUrl(settings), ccompatUrl(settings),
                serde.get(io.apicurio.registry.resolver.config.SchemaResolverConfig.AUTH_USERNAME),
                serde.get(io.apicurio.registry.resolver.config.SchemaResolverConfig.AUTH_PASSWORD));
    }

    /** The longest one call of the serialisers to the registry may take with these settings, its retries included. */
    public static java.time.Duration serializerCallDeadline(Settings settings) {
        return TimeBoundSchemaResolver.callDeadline(TimeBoundSchemaResolver.requestTimeoutMs(serdeConfigs(settings)));
    }

    private static Map<String, Object> serdeConfigs(Settings settings) {
        Map<String, Object> extra = new HashMap<>(settings.withPrefix(SERDE_PREFIX));
        extra.putIfAbsent(TimeBoundSchemaResolver.REQUEST_TIMEOUT_MS, String.valueOf(
                settings.integer(REGISTRY_TIMEOUT_MS, (int) TimeBoundSchemaResolver.DEFAULT_REQUEST_TIMEOUT_MS)));
        return extra;
    }
}
