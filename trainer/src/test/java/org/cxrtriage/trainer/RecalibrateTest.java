package org.cxrtriage.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.cxrtriage.model.Backbone;
import org.cxrtriage.model.InputView;
import org.cxrtriage.model.ModelMetadata;
import org.junit.jupiter.api.Test;

class RecalibrateTest {

    @Test
    void aNewThresholdKeepsTheModelsViewAndRecordsThePlanesItWasChosenOn() {
        ModelMetadata before = new ModelMetadata("cxr", "1.0.0", Backbone.RESNET18, 128, 64, 0.42, 7, true,
                Instant.parse("2026-11-01T00:00:00Z"), "trained", InputView.LUNGS_ONLY, "v3|lung-a");

        ModelMetadata after = EvaluateCommand.recalibrated(before, 0.31, "1.0.1", "re-chosen", "v3|lung-b");

        assertThat(after.threshold()).isEqualTo(0.31);
        assertThat(after.version()).isEqualTo("1.0.1");
        assertThat(after.inputView()).isEqualTo(InputView.LUNGS_ONLY);
        assertThat(after.planes()).as("the planes the threshold was chosen on").isEqualTo("v3|lung-b");
        assertThat(after.takesPlanes("v3|lung-a")).as("no longer validated on the old planes").isFalse();
        assertThat(EvaluateCommand.recalibrated(before, 0.31, null, "n", "v3|lung-a").version()).isEqualTo("1.0.0");
    }
}
