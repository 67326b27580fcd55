package org.cxrtriage.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.cxrtriage.common.Settings;
import org.cxrtriage.common.TopicSetup;
import org.junit.jupiter.api.Test;

class StreamThreadsTest {

    @Test
    void oneMoreThanTheCoresUpToThePartitionsOfTheImagesTopic() {
        Settings defaults = Settings.of(Map.of());
        assertThat(PreprocessService.streamThreads(defaults, 1)).isEqualTo(2);
        assertThat(PreprocessService.streamThreads(defaults, 2)).isEqualTo(3); // one per default partition
        assertThat(PreprocessService.streamThreads(defaults, 16)).isEqualTo(TopicSetup.DEFAULT_PARTITIONS);
        Settings twelvePartitions = Settings.of(Map.of(TopicSetup.PARTITIONS, "12"));
        assertThat(PreprocessService.streamThreads(twelvePartitions, 16)).isEqualTo(12);
        assertThat(PreprocessService.streamThreads(twelvePartitions, 2)).isEqualTo(3);
    }

    @Test
    void theSettingWins() {
        assertThat(PreprocessService.streamThreads(Settings.of(Map.of(PreprocessService.STREAM_THREADS, "1")), 8))
                .isEqualTo(1);
    }
}
