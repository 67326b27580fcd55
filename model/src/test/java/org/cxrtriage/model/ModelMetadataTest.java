package org.cxrtriage.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ModelMetadataTest {
    static final ModelMetadata SAMPLE = new ModelMetadata("cxr-resnet50", "2024.1", Backbone.RESNET50, 224, 128,
            0.42, 1234L, true, Instant.parse("2024-05-01T10:15:30.123Z"), "trained 32 epochs",
            InputView.LUNGS_ONLY);

    @Test
    void jsonRoundTrip() throws IOException {
        String json = SAMPLE.toJson();
        assertThat(json).contains("\"backbone\" : \"RESNET50\"", "\"createdAt\" : \"2024-05-01T10:15:30.123Z\"");
        assertThat(ModelMetadata.fromJson(json)).isEqualTo(SAMPLE);
    }

    @Test
    void unknownFieldsAreIgnoredAndNullNotesBecomeEmpty() throws IOException {
        String json = SAMPLE.toJson().replace("\"notes\" : \"trained 32 epochs\"", "\"future\" : 1");
        assertThat(ModelMetadata.fromJson(json).notes()).isEmpty();
    }

    @Test
    void anOlderModelJsonWithoutAnInputViewSeesTheFullXray() throws IOException {
        String json = SAMPLE.toJson().replace("\"inputView\" : \"LUNGS_ONLY\"", "\"future\" : 1");
        assertThat(json).doesNotContain("inputView");
        assertThat(ModelMetadata.fromJson(json).inputView()).isEqualTo(InputView.FULL);
        assertThat(SAMPLE.withThreshold(0.3).inputView()).isEqualTo(InputView.LUNGS_ONLY);
    }

    @Test
    void thePlanesItWasTrainedOnRoundTripAndAreOmittedWhenUnknown() throws IOException {
        ModelMetadata withPlanes = new ModelMetadata("cxr", "1", Backbone.RESNET18, 128, 64, 0.4, 1L, true,
                Instant.parse("2024-05-01T10:15:30.123Z"), "", InputView.FULL, "cxr-preprocess-1;size=256;lungs=u:1");
        String json = withPlanes.toJson();
        assertThat(json).contains("\"planes\" : \"cxr-preprocess-1;size=256;lungs=u:1\"");
        assertThat(ModelMetadata.fromJson(json)).isEqualTo(withPlanes);
        assertThat(withPlanes.withThreshold(0.3).withTrained(true, "n").planes()).isEqualTo(withPlanes.planes());

        // An older model.json (no planes field) and untrained metadata record none; the JSON then has no field.
        assertThat(SAMPLE.planes()).isNull();
        assertThat(SAMPLE.toJson()).doesNotContain("planes");
        assertThat(ModelMetadata.fromJson(SAMPLE.toJson()).planes()).isNull();
        assertThat(new ModelMetadata("cxr", "1", Backbone.RESNET18, 128, 64, 0.4, 1L, true, Instant.EPOCH, "",
                InputView.FULL, " ").planes()).isNull();
    }

    @Test
    void rejectsInvalidValues() {
        assertThatThrownBy(() -> SAMPLE.withThreshold(1.5)).hasMessageContaining("threshold");
        assertThatThrownBy(() -> new ModelMetadata(" ", "1", Backbone.RESNET18, 224, 128, 0.5, 0, false,
                Instant.now(), "", null)).hasMessageContaining("name");
        assertThatThrownBy(() -> new ModelMetadata("n", "1", Backbone.RESNET18, 224, 0, 0.5, 0, false,
                Instant.now(), "", null)).hasMessageContaining("embeddingSize");
    }

    @Test
    void withersKeepOtherFields() {
        ModelMetadata trained = SAMPLE.withTrained(false, "x").withThreshold(0.6);
        assertThat(trained.trained()).isFalse();
        assertThat(trained.notes()).isEqualTo("x");
        assertThat(trained.threshold()).isEqualTo(0.6);
        assertThat(trained.seed()).isEqualTo(SAMPLE.seed());
    }
}
