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
    static Path shared;
    private static Path seeded;
    private static ModelMetadata seededMetadata;

    @TempDir
    Path tmp;

    @BeforeAll
    static void createSharedModel() throws IOException {
        TestModels.init();
        seeded = shared.resolve("seeded");
        seededMetadata = ModelDirectory.createSeeded(seeded, Backbone.RESNET18, SIZE, 128, 1L, "cxr", "1");
    }

    /** A private copy of the shared seeded model, cheaper than seeding a new one. */
    private Path copyOfSeeded() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("m"));
        try (var files = Files.list(seeded)) {
            for (Path file : files.toList()) {
                Files.copy(file, dir.resolve(file.getFileName()));
            }
        }
        return dir;
    }

    @Test
    void createSeededWritesWeightsAndMetadata() throws IOException {
        assertThat(seeded.resolve(ModelDirectory.METADATA_FILE)).isRegularFile();
        assertThat(seeded.resolve("model-0000.params")).isRegularFile();
        assertThat(ModelDirectory.readMetadata(seeded)).isEqualTo(seededMetadata);
        assertThat(seededMetadata.trained()).isFalse();
        assertThat(seededMetadata.backbone()).isEqualTo(Backbone.RESNET18);
        // Guard on the block structure: changing it changes the weights format and breaks existing model
        // directories (e.g. models/default). Same size as the plain SequentialBlock/ParallelBlock layout.
        assertThat(Files.size(seeded.resolve("model-0000.params")))
                .as("weights format changed; existing models would no longer load").isEqualTo(46_072_466L);
        try (LoadedModel loaded = ModelDirectory.load(seeded, Device.cpu())) {
            assertThat(loaded.metadata()).isEqualTo(seededMetadata);
            assertThat(loaded.directory()).isEqualTo(seeded);
        }
    }

    @Test
    void saveThenLoadGivesIdenticalOutputs() throws IOException {
        ModelMetadata metadata = new ModelMetadata("cxr", "0.2", Backbone.RESNET18, SIZE, 128, 0.5, 5L, false,
                Instant.now(), null, InputView.FULL);
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
    void inferenceFormGivesTheTrainedFormsOutputs() throws IOException {
        List<Prediction> trained = predict(seeded);
        try (LoadedModel loaded = ModelDirectory.loadForInference(seeded, Device.cpu());
                CxrPredictor predictor = new CxrPredictor(loaded, 2)) {
            assertThat(loaded.metadata()).isEqualTo(seededMetadata);
            List<Prediction> folded = predictor.predict(INPUTS);
            for (int i = 0; i < INPUTS.size(); i++) {
                assertThat(folded.get(i).logits()).containsExactly(trained.get(i).logits(),
                        org.assertj.core.data.Offset.offset(1e-3f));
            }
        }
    }

    @Test
    void sameSeedGivesIdenticalModelsAndOtherSeedDoesNot() throws IOException {
        Path a = seeded;
        Path b = tmp.resolve("b");
        Path c = tmp.resolve("c");
        ModelDirectory.createSeeded(b, Backbone.RESNET18, SIZE, 128, 1L, "cxr", "1");
        ModelDirectory.createSeeded(c, Backbone.RESNET18, SIZE, 128, 2L, "cxr", "1");
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
        Path dir = copyOfSeeded();
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
        Path dir = copyOfSeeded();
        Path weights = dir.resolve("model-0000.params");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> ModelDirectory.load(dir, Device.cpu()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("corrupt");
    }

    @Test
    void weightsOfAnotherBackboneAreReported() throws IOException {
        Path dir = copyOfSeeded();
        ModelMetadata metadata = seededMetadata;
        writeMetadata(dir, new ModelMetadata(metadata.name(), metadata.version(), Backbone.RESNET50, SIZE, 128,
                0.5, 1L, false, metadata.createdAt(), "", InputView.FULL));
        assertThatThrownBy(() -> ModelDirectory.load(dir, Device.cpu()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("do not match model.json")
                .hasMessageContaining("RESNET50");
    }

    @Test
    void weightsOfAnotherEmbeddingSizeAreReported() throws IOException {
        Path dir = copyOfSeeded();
        writeMetadata(dir, new ModelMetadata("cxr", "1", Backbone.RESNET18, SIZE, 64, 0.5, 1L, false,
                seededMetadata.createdAt(), "", InputView.FULL));
        assertThatThrownBy(() -> ModelDirectory.load(dir, Device.cpu()))
                .isInstanceOf(InvalidModelException.class).hasMessageContaining("(2, 64)");
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
