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

    /** Settings that would let a pending claim expire, or a send outlast the time allowed it, stop ingest at start. */
    @Test
    void theDuplicateCheckRefusesSettingsItCannotKeepItsPromiseWith() {
        assertThat(IngestService.checkedDedupSettings(Settings.of(Map.of()))).isEqualTo(java.time.Duration.ofDays(30));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> IngestService.checkedDedupSettings(
                Settings.of(Map.of(IngestService.DEDUP_WINDOW, "PT20M")))).hasMessageContaining("at least 26 minutes");
        assertThat(IngestService.checkedDedupSettings(Settings.of(Map.of(
                org.cxrtriage.common.RegistrySettings.REGISTRY_TIMEOUT_MS, "10000")))).isNotNull();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> IngestService.checkedDedupSettings(Settings.of(Map.of(
                org.cxrtriage.common.RegistrySettings.REGISTRY_TIMEOUT_MS, "12000"))))
                .hasMessageContaining("REGISTRY_TIMEOUT_MS to at most 10000");
    }
}
