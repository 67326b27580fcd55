package org.cxrtriage.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

class KafkaSettingsTest {

    @Test
    void theTransactionTimeoutIsShortByDefaultAndCanBeSet() {
        assertThat(KafkaSettings.transactionalProducer(Settings.of(Map.of()), "c", "t")
                .get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)).isEqualTo(15_000);
        assertThat(KafkaSettings.transactionalProducer(Settings.of(Map.of(CommonKeys.KAFKA_CLIENT_PREFIX
                        + "TRANSACTION_TIMEOUT_MS", "60000")), "c", "t")
                .get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)).isEqualTo("60000");
    }
}
