package org.cxrtriage.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class SettingsTest {

    @Test
    void readsTypedValuesWithDefaults() {
        Settings s = Settings.of(Map.of("N", "7", "F", "yes", "D", "PT2M", "S", "90", "BLANK", " "));
        assertThat(s.integer("N", 1)).isEqualTo(7);
        assertThat(s.integer("MISSING", 1)).isEqualTo(1);
        assertThat(s.flag("F", false)).isTrue();
        assertThat(s.duration("D", Duration.ZERO)).isEqualTo(Duration.ofMinutes(2));
        assertThat(s.duration("S", Duration.ZERO)).isEqualTo(Duration.ofSeconds(90));
        assertThat(s.string("BLANK", "default")).isEqualTo("default");
    }

    @Test
    void namesTheKeyWhenAValueIsInvalid() {
        Settings s = Settings.of(Map.of("N", "seven"));
        assertThatThrownBy(() -> s.integer("N", 1)).hasMessageContaining("N").hasMessageContaining("seven");
    }

    @Test
    void passesPrefixedKafkaClientSettingsThrough() {
        Settings s = Settings.of(Map.of("KAFKA_CLIENT_SECURITY_PROTOCOL", "SASL_SSL",
                "KAFKA_CLIENT_SASL_MECHANISM", "SCRAM-SHA-512", CommonKeys.KAFKA_BOOTSTRAP_SERVERS, "broker:9093"));
        Properties p = KafkaSettings.producer(s, "x");
        assertThat(p).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("bootstrap.servers", "broker:9093").containsEntry("enable.idempotence", "true");
    }

    @Test
    void producersLingerFiveMillisecondsUnlessTold() {
        assertThat(KafkaSettings.producer(Settings.of(Map.of()), "c")).containsEntry("linger.ms", 5);
        assertThat(KafkaSettings.producer(Settings.of(Map.of()), "c", 0)).containsEntry("linger.ms", 0)
                .containsEntry("acks", "all").containsEntry("enable.idempotence", "true");
    }

    @Test
    void transactionalProducersRetrySoonUnlessTold() {
        Properties p = KafkaSettings.transactionalProducer(Settings.of(Map.of()), "c", "t-0");
        assertThat(p).containsEntry("retry.backoff.ms", KafkaSettings.TRANSACTION_RETRY_BACKOFF_MS)
                .containsEntry("transactional.id", "t-0");
        Properties told = KafkaSettings.transactionalProducer(
                Settings.of(Map.of("KAFKA_CLIENT_RETRY_BACKOFF_MS", "250")), "c", "t-0");
        assertThat(told).containsEntry("retry.backoff.ms", "250");
        // Plain producers keep the client's default.
        assertThat(KafkaSettings.producer(Settings.of(Map.of()), "c")).doesNotContainKey("retry.backoff.ms");
    }

    @Test
    void producersCompressOnlyWhenAskedAndRefuseAnUnknownCodec() {
        Properties plain = KafkaSettings.producer(Settings.of(Map.of()), "c");
        assertThat(plain.get("compression.type")).isEqualTo("none");
        Properties zstd = KafkaSettings.producer(Settings.of(Map.of(CommonKeys.KAFKA_COMPRESSION, "ZSTD")), "c");
        assertThat(zstd.get("compression.type")).isEqualTo("zstd");
        assertThatThrownBy(() -> KafkaSettings.producer(Settings.of(Map.of(CommonKeys.KAFKA_COMPRESSION, "brotli")),
                "c")).hasMessageContaining("KAFKA_COMPRESSION").hasMessageContaining("brotli");
    }
}
