package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Properties;
import org.cxrtriage.common.Settings;
import org.junit.jupiter.api.Test;

class IngestProducerTest {

    @Test
    void sendsEachImageAtOnceAndGivesUpWithinTheHttpWait() {
        Properties p = IngestService.producerProperties(Settings.of(Map.of()));
        // An upload waits for its own acknowledgement: no linger for company (5 ms per lone image before).
        assertThat(p).containsEntry("linger.ms", 0).containsEntry("acks", "all")
                .containsEntry("enable.idempotence", "true")
                .containsEntry("delivery.timeout.ms", IngestService.DELIVERY_TIMEOUT_MS)
                .containsEntry("max.block.ms", IngestService.MAX_BLOCK_MS);
    }
}
