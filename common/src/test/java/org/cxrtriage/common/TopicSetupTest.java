package org.cxrtriage.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.cxrtriage.schemas.Topic;
import org.junit.jupiter.api.Test;

class TopicSetupTest {

    @Test
    void theTopicsThatRecordCasesAreCreatedToBeKeptForGoodOrAsConfigured() {
        Settings defaults = Settings.of(Map.of());
        assertThat(TopicSetup.configs(Topic.SCORES.name(), defaults)).containsEntry("retention.ms", "-1");
        assertThat(TopicSetup.configs(Topic.ALERTS.name(), defaults)).containsEntry("retention.ms", "-1");
        assertThat(TopicSetup.configs(Topic.IMAGES.name(), defaults)).doesNotContainKey("retention.ms")
                .containsEntry("max.message.bytes", String.valueOf(KafkaSettings.MAX_RECORD_BYTES))
                // Ingest finds an unacknowledged image by the timestamp it gave it.
                .containsEntry("message.timestamp.type", "CreateTime");

        Settings ninetyDays = Settings.of(Map.of(TopicSetup.CASE_RETENTION_MS, "7776000000"));
        assertThat(TopicSetup.configs(Topic.LABELS.name(), ninetyDays)).containsEntry("retention.ms", "7776000000");
        assertThatThrownBy(() -> TopicSetup.caseRetentionMs(Settings.of(Map.of(TopicSetup.CASE_RETENTION_MS, "0"))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void retractionsMustHaveAsManyPartitionsAsScores() {
        TopicSetup.checkCoPartitioned(3, 3);
        assertThatThrownBy(() -> TopicSetup.checkCoPartitioned(6, 3))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cxr.retractions.v1 has 3 partitions").hasMessageContaining("cxr.scores.v1 6");
        assertThat(TopicSetup.configs("cxr.retractions.v1", Settings.of(Map.of())))
                .as("kept for good: a recovery replays them").containsEntry("retention.ms", "-1");
    }
}
