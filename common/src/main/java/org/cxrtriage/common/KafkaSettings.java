package org.cxrtriage.common;

import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Base Kafka client properties shared by every service. Each service starts from these and overrides only what it
 * must (with a comment why).
 */
public final class KafkaSettings {

    /** X-ray payloads exceed Kafka's 1 MB default; the broker's message.max.bytes must be at least this. */
    public static final int MAX_RECORD_BYTES = 32 * 1024 * 1024;

    /**
     * Back-off of a transactional producer's first retry (later ones double, up to {@code retry.backoff.max.ms}),
     * unless {@code KAFKA_CLIENT_RETRY_BACKOFF_MS} sets it. While a transaction's commit markers are still being
     * written (a few ms), the broker answers the next transaction's offset commit with CONCURRENT_TRANSACTIONS; at the
     * client's default back-off of 100 ms a stage that commits again soon after stalls for it. Back-to-back
     * consume-process-produce transactions against the local broker took 16–48 ms each with the default and 4–6 ms
     * with 10 ms, with no more broker CPU per transaction ({@code bench/broker/TransactionCost.java}).
     */
    public static final int TRANSACTION_RETRY_BACKOFF_MS = 10;

    public static final String DEFAULT_COMPRESSION = "none";
    private static final java.util.Set<String> CODECS = java.util.Set.of("none", "lz4", "zstd", "gzip", "snappy");

    private KafkaSettings() {
    }

    public static String bootstrap(Settings settings) {
        return settings.string(CommonKeys.KAFKA_BOOTSTRAP_SERVERS, CommonKeys.DEFAULT_BOOTSTRAP);
    }

    /** Bootstrap plus pass-through security settings (KAFKA_CLIENT_SECURITY_PROTOCOL -> security.protocol). */
    public static Properties base(Settings settings, String clientId) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap(settings));
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        settings.withPrefix(CommonKeys.KAFKA_CLIENT_PREFIX)
                .forEach((k, v) -> p.put(k.toLowerCase(Locale.ROOT).replace('_', '.'), v));
        return p;
    }

    /** {@link CommonKeys#KAFKA_COMPRESSION}, checked against the codecs Kafka knows. */
    public static String compression(Settings settings) {
        String codec = settings.string(CommonKeys.KAFKA_COMPRESSION, DEFAULT_COMPRESSION).toLowerCase(Locale.ROOT);
        if (!CODECS.contains(codec)) {
            throw new IllegalArgumentException(CommonKeys.KAFKA_COMPRESSION + " must be one of none, lz4, zstd, gzip, "
                    + "snappy; got '" + codec + "'");
        }
        return codec;
    }

    /** Idempotent, fully acknowledged producer that can carry large records; a record waits up to 5 ms for others. */
    public static Properties producer(Settings settings, String clientId) {
        return producer(settings, clientId, 5);
    }

    /**
     * As {@link #producer(Settings, String)}, with {@code lingerMs}: how long a record waits for others to share its
     * request. 0 where a caller waits on each record's acknowledgement and records come one at a time: an X-ray of
     * ~100 KB is larger than a batch, yet the producer does not count its batch as full (it sizes batches by an upper
     * bound), so a lone record waited the whole linger (measured: 8–10 ms per send with 5 ms, 2.4–3.2 with 0).
     */
    public static Properties producer(Settings settings, String clientId, int lingerMs) {
        Properties p = base(settings, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_RECORD_BYTES);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression(settings));
        p.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        return p;
    }

    /**
     * A transactional producer for consume-process-produce: outputs and the consumed offsets commit together, so a
     * crash or a replay never publishes a result twice. {@code transactionalId} must be stable for one worker across
     * restarts ({@link #transactionalId}).
     */
    public static Properties transactionalProducer(Settings settings, String clientId, String transactionalId) {
        Properties p = producer(settings, clientId);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        // A crashed instance that never comes back holds read_committed readers behind its open transaction until
        // the broker aborts it: keep that short (KAFKA_CLIENT_TRANSACTION_TIMEOUT_MS may lengthen it).
        p.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 15_000);
        p.putIfAbsent(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, TRANSACTION_RETRY_BACKOFF_MS);
        return p;
    }

    /** service + instance + worker: stable across restarts of one instance, distinct between instances. */
    public static String transactionalId(Settings settings, String service, int defaultHttpPort, int worker) {
        String instance = settings.optional(CommonKeys.INSTANCE_ID).orElseGet(() -> {
            String host;
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                host = "localhost";
            }
            int port = settings.integer(CommonKeys.HTTP_PORT, defaultHttpPort);
            // Port 0 (a free one each start) cannot name the instance: fall back to a fresh id.
            return port == 0 ? java.util.UUID.randomUUID().toString() : host + "-" + port;
        });
        return "cxr-" + service + "-" + instance + "-" + worker;
    }

    /** Consumer with manual commits (services commit only after their results are published). */
    public static Properties consumer(Settings settings, String clientId, String groupId) {
        Properties p = base(settings, clientId);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, MAX_RECORD_BYTES);
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, MAX_RECORD_BYTES);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return p;
    }
}
