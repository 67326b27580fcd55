package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.apache.kafka.clients.admin.Admin;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.Settings;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark's broker warm-up against the real broker: records go through both stages, and nothing is left. */
@Tag("e2e")
class BrokerWarmupTest {

    @TempDir
    Path tempDir;

    @Test
    void passesRecordsThroughTwoTransactionalStagesAndDeletesItsTopics() throws Exception {
        Settings settings = TestStack.isolatedSettings(tempDir);
        BrokerWarmup.Result result = BrokerWarmup.run(settings, Duration.ofSeconds(3), 2, 90_000);

        assertThat(result.records()).isGreaterThan(10);
        assertThat(result.seconds()).isBetween(3.0, 60.0);
        try (Admin admin = Admin.create(KafkaSettings.base(settings, "warmup-test-admin"))) {
            // Deletion is asynchronous on the broker, but the listing no longer shows a topic once deleteTopics returned.
            assertThat(admin.listTopics().names().get()).noneMatch(t -> t.startsWith("cxr.bench-broker-warmup."));
        }
    }
}
