package org.cxrtriage.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.cxrtriage.common.Settings;
import org.junit.jupiter.api.Test;

class TorchThreadsTest {

    @Test
    void halfTheCoresSharedAmongTheWorkersAtLeastOne() {
        Settings oneWorker = Settings.of(Map.of());
        assertThat(InferenceService.torchThreads(oneWorker, 1)).isEqualTo(1);
        assertThat(InferenceService.torchThreads(oneWorker, 2)).isEqualTo(1);
        assertThat(InferenceService.torchThreads(oneWorker, 16)).isEqualTo(8);
        assertThat(InferenceService.torchThreads(Settings.of(Map.of(InferenceService.WORKERS, "4")), 16)).isEqualTo(2);
        assertThat(InferenceService.torchThreads(Settings.of(Map.of(InferenceService.WORKERS, "4")), 4)).isEqualTo(1);
    }

    @Test
    void theSettingWins() {
        assertThat(InferenceService.torchThreads(Settings.of(Map.of(InferenceService.TORCH_THREADS, "2")), 2))
                .isEqualTo(2);
    }
}
