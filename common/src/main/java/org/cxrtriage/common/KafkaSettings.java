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

    /** Idempotent, fully acknowledged producer that can carry large records. */
    public static Properties producer(Settings settings, String clientId) {
        Properties p = base(settings, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_RECORD_BYTES);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return p;
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
