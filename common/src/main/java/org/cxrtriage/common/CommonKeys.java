package org.cxrtriage.common;

/** Environment variables shared by every service; each service documents its own beside its config. */
public final class CommonKeys {
    /** Kafka bootstrap servers. */
    public static final String KAFKA_BOOTSTRAP_SERVERS = "KAFKA_BOOTSTRAP_SERVERS";
    /** Apicurio Registry core API base, e.g. http://127.0.0.1:8081/apis/registry/v3 (used by the serdes). */
    public static final String APICURIO_REGISTRY_URL = "APICURIO_REGISTRY_URL";
    /** Confluent-compatible API of the same registry, e.g. http://127.0.0.1:8081/apis/ccompat/v7. */
    public static final String SCHEMA_REGISTRY_URL = "SCHEMA_REGISTRY_URL";
    /** Redis, e.g. redis://127.0.0.1:6379 (rediss:// for TLS). */
    public static final String REDIS_URL = "REDIS_URL";
    /** Prefix of every Redis key (case store, alerts, duplicate guard): lets deployments or tests share a Redis. */
    public static final String REDIS_KEY_PREFIX = "REDIS_KEY_PREFIX";
    /** Port of the service's HTTP endpoints (/health, /metrics, APIs); 0 picks a free one. */
    public static final String HTTP_PORT = "HTTP_PORT";
    /** Bind address of the HTTP endpoints. */
    public static final String HTTP_HOST = "HTTP_HOST";
    /**
     * Extra Kafka client properties: KAFKA_CLIENT_SECURITY_PROTOCOL=SASL_SSL becomes security.protocol=SASL_SSL
     * (TLS, SASL and ACL principals are configured this way without code changes).
     */
    public static final String KAFKA_CLIENT_PREFIX = "KAFKA_CLIENT_";
    /**
     * Compression of every producer's record batches (none, lz4, zstd, gzip, snappy). Images arrive compressed (PNG,
     * JPEG) and the tensor planes barely shrink, while a compressed batch costs the producer, the broker (which
     * decompresses it to validate) and every consumer CPU time.
     */
    public static final String KAFKA_COMPRESSION = "KAFKA_COMPRESSION";
    /**
     * Names this service instance in Kafka transactional ids. Must be stable across restarts of one instance (so a
     * restarted instance aborts what its crashed predecessor left open at once) and distinct between instances;
     * default: host name + HTTP port.
     */
    public static final String INSTANCE_ID = "INSTANCE_ID";
    /**
     * How long ingest remembers an image it took: its duplicate check, and what lets the image's site retract it
     * ({@code DELETE /images/{id}}). The similarity service keeps what each alert holds as long, so a retraction
     * ingest accepts always reaches the image's alert, also once the alert closed. Give both services the same value.
     */
    public static final String DEDUP_WINDOW = "INGEST_DEDUP_WINDOW";
    public static final java.time.Duration DEFAULT_DEDUP_WINDOW = java.time.Duration.ofDays(30);

    public static final String DEFAULT_BOOTSTRAP = "127.0.0.1:9092";
    public static final String DEFAULT_APICURIO_URL = "http://127.0.0.1:8081/apis/registry/v3";
    public static final String DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

    private CommonKeys() {
    }
}
