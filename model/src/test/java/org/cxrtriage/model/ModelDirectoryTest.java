package org.cxrtriage.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDirectoryTest {
    private static final int SIZE = TestModels.SIZE;
    private static final List<ModelInput> INPUTS = TestModels.randomInputs(2, SIZE, 42);

    @TempDir
    Path tmp;

    @BeforeAll
    static void threads() {
        TestModels.init();
    }

    @Test
    void createSeededWritesWeightsAndMetadata() throws IOException {
        Path dir = tmp.resolve("m");
        ModelMetadata written = ModelDirectory.createSeeded(dir, Backbone.RESNET18, SIZE, 64, 1L, "cxr", "0.1");
        assertThat(dir.resolve(ModelDirectory.METADATA_FILE)).isRegularFile();
        assertThat(dir.resolve("model-0000.params")).isRegularFile();
        assertThat(ModelDirectory.readMetadata(dir)).isEqualTo(written);
        assertThat(written.trained()).isFalse();
        try (LoadedModel loaded = ModelDirectory.load(dir, Device.cpu())) {
            assertThat(loaded.metadata()).isEqualTo(written);
            assertThat(loaded.directory()).isEqualTo(dir);
        }
    }

    @Test
    void saveThenLoadGivesIdenticalOutputs() throws IOException {
        ModelMetadata metadata = new ModelMetadata("cxr", "0.2", Backbone.RESNET18, SIZE, 128, 0.5, 5L, false,
                Instant.now(), null);
        Path dir = tmp.resolve("roundtrip");
        List<Prediction> before;
        try (LoadedModel fresh = ModelDirectory.initialise(metadata, Device.cpu());
                CxrPredictor predictor = new CxrPredictor(fresh, 2)) {
            before = predictor.predict(INPUTS);
            ModelDirectory.save(dir, fresh.model(), metadata);
        }
        assertThat(predict(dir)).usingRecursiveFieldByFieldElementComparator().isEqualTo(before);
    }

    @Test
    void sameSeedGivesIdenticalModelsAndOtherSeedDoesNot() throws IOException {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        Path c = tmp.resolve("c");
        ModelDirectory.createSeeded(a, Backbone.RESNET18, SIZE, 128, 99L, "cxr", "1");
        ModelDirectory.createSeeded(b, Backbone.RESNET18, SIZE, 128, 99L, "cxr", "1");
        ModelDirectory.createSeeded(c, Backbone.RESNET18, SIZE, 128, 100L, "cxr", "1");
        assertThat(Files.mismatch(a.resolve("model-0000.params"), b.resolve("model-0000.params"))).isEqualTo(-1L);
        List<Prediction> pa = predict(a);
        assertThat(predict(b)).usingRecursiveFieldByFieldElementComparator().isEqualTo(pa);
        assertThat(predict(c).get(0).logits()).isNotEqualTo(pa.get(0).logits());
    }

    @Test
    void missingDirectoryIsReported() {
        Path missing = tmp.resolve("nope");
        assertThatThrownBy(() -> ModelDirectory.load(missing, Device.cpu()))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("does not exist").hasMessageContaining("nope");
    }

    @Test
    void missingMetadataIsReported() {
        assertThatThrownBy(() -> ModelDirectory.load(tmp, Device.cpu()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("has no model.json");
    }

    @Test
    void missingWeightsAreReported() throws IOException {
        Path dir = tmp.resolve("m");
        ModelDirectory.createSeeded(dir, Backbone.RESNET18, SIZE, 128, 1L, "cxr", "1");
        Files.delete(dir.resolve("model-0000.params"));
        assertThatThrownBy(() -> ModelDirectory.load(dir, Device.cpu()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("no weights file");
    }

    @Test
    void unreadableOrInvalidMetadataIsReported() throws IOException {
        Files.writeString(tmp.resolve("model.json"), "{not json");
        assertThatThrownBy(() -> ModelDirectory.load(tmp, Device.cpu()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("cannot read");
        Files.writeString(tmp.resolve("model.json"), ModelMetadataTest.SAMPLE.toJson().replace("\"inputSize\" : 224",
                "\"inputSize\" : 8"));
        assertThatThrownBy(() -> ModelDirectory.load(tmp, Device.cpu()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("inputSize must be >= 32");
    }

    @Test
    void corruptWeightsAreReported() throws IOException {
        Path dir = tmp.resolve("m");
        ModelDirectory.createSeeded(dir, Backbone.RESNET18, SIZE, 128, 1L, "cxr", "1");
        Path weights = dir.resolve("model-0000.params");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> ModelDirectory.load(dir, Device.cpu()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("corrupt");
    }

    @Test
    void weightsOfAnotherBackboneAreReported() throws IOException {
        Path dir = tmp.resolve("m");
        ModelMetadata metadata = ModelDirectory.createSeeded(dir, Backbone.RESNET18, SIZE, 128, 1L, "cxr", "1");
        writeMetadata(dir, new ModelMetadata(metadata.name(), metadata.version(), Backbone.RESNET50, SIZE, 128,
                0.5, 1L, false, metadata.createdAt(), ""));
        assertThatThrownBy(() -> ModelDirectory.load(dir, Device.cpu()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("do not match model.json")
                .hasMessageContaining("RESNET50");
    }

    @Test
    void weightsOfAnotherEmbeddingSizeAreReported() throws IOException {
        Path dir = tmp.resolve("m");
        ModelMetadata metadata = ModelDirectory.createSeeded(dir, Backbone.RESNET18, SIZE, 64, 1L, "cxr", "1");
        writeMetadata(dir, new ModelMetadata(metadata.name(), metadata.version(), Backbone.RESNET18, SIZE, 128,
                0.5, 1L, false, metadata.createdAt(), ""));
        assertThatThrownBy(() -> ModelDirectory.load(dir, Device.cpu()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("(2, 128)");
    }

    private static void writeMetadata(Path dir, ModelMetadata metadata) throws IOException {
        Files.writeString(dir.resolve(ModelDirectory.METADATA_FILE), metadata.toJson());
    }

    private static List<Prediction> predict(Path dir) throws IOException {
        try (LoadedModel loaded = ModelDirectory.load(dir, Device.cpu());
                CxrPredictor predictor = new CxrPredictor(loaded, 2)) {
            return predictor.predict(INPUTS);
        }
    }
}
