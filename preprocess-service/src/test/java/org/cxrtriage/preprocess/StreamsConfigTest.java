package org.cxrtriage.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.Settings;
import org.junit.jupiter.api.Test;

class StreamsConfigTest {

    private static Object producerSetting(Settings settings, String key) {
        StreamsConfig config = new StreamsConfig(new PreprocessService(settings).streamsConfig());
        return config.getProducerConfigs("preprocess-producer").get(key);
    }

    @Test
    void theStreamsProducerRetriesAsSoonAsTheServicesTransactionalProducers() {
        assertThat(producerSetting(Settings.of(Map.of()), ProducerConfig.RETRY_BACKOFF_MS_CONFIG))
                .isEqualTo(KafkaSettings.TRANSACTION_RETRY_BACKOFF_MS);
    }

    @Test
    void aClientSettingWins() {
        Settings told = Settings.of(Map.of("KAFKA_CLIENT_RETRY_BACKOFF_MS", "250"));
        assertThat(producerSetting(told, ProducerConfig.RETRY_BACKOFF_MS_CONFIG)).isEqualTo("250");
    }

    @Test
    void aReplacedStreamThreadsPartitionsWaitTenSecondsNotFortyFive() {
        StreamsConfig config = new StreamsConfig(new PreprocessService(Settings.of(Map.of())).streamsConfig());
        assertThat(config.getMainConsumerConfigs("cxr-preprocess", "c", 0).get(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG))
                .isEqualTo(10_000);
        StreamsConfig told = new StreamsConfig(new PreprocessService(Settings.of(Map.of(
                PreprocessService.SESSION_TIMEOUT_MS, "20000"))).streamsConfig());
        assertThat(told.getMainConsumerConfigs("cxr-preprocess", "c", 0).get(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG))
                .isEqualTo(20_000);
    }
}
