package org.cxrtriage.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CxrPredictorTest {
    private static final float TOLERANCE = 1e-5f;
    @TempDir
    static Path dir;
    private static LoadedModel model;

    @BeforeAll
    static void createModel() throws IOException {
        TestModels.init();
        ModelDirectory.createSeeded(dir, Backbone.RESNET18, TestModels.SIZE, 128, 7L, "test", "1");
        model = ModelDirectory.load(dir, Device.cpu());
    }

    @AfterAll
    static void closeModel() {
        model.close();
    }

    @Test
    void givesProbabilityEmbeddingAndLogitsPerInput() {
        try (CxrPredictor predictor = new CxrPredictor(model, 2)) {
            List<Prediction> out = predictor.predict(TestModels.randomInputs(2, TestModels.SIZE, 1));
            assertThat(out).hasSize(2);
            for (Prediction p : out) {
                assertThat(p.logits()).hasSize(2);
                assertThat(p.embedding()).hasSize(128);
                double softmax = 1 / (1 + Math.exp(p.logits()[0] - p.logits()[1]));
                assertThat((double) p.probability()).isCloseTo(softmax, within(1e-6)).isBetween(0.0, 1.0);
            }
            assertThat(predictor.device()).isEqualTo(Device.cpu());
        }
    }

    @Test
    void paddedPartialBatchMatchesUnpaddedCall() {
        // Unpadded = one call whose batch is exactly these 3 inputs (batch 1 would spam NNPACK warnings).
        List<ModelInput> inputs = TestModels.randomInputs(3, TestModels.SIZE, 10);
        List<Prediction> unpadded;
        try (CxrPredictor three = new CxrPredictor(model, 3)) {
            unpadded = three.predict(inputs);
        }
        try (CxrPredictor four = new CxrPredictor(model, 4)) {
            List<Prediction> padded = four.predict(inputs);
            assertThat(padded).hasSize(3);
            for (int i = 0; i < 3; i++) {
                assertClose(padded.get(i), unpadded.get(i));
            }
        }
    }

    @Test
    void paddingRowsDoNotLeakIntoRealRows() {
        List<ModelInput> four = TestModels.randomInputs(4, TestModels.SIZE, 50);
        try (CxrPredictor predictor = new CxrPredictor(model, 4)) {
            List<Prediction> padded = predictor.predict(four.subList(0, 3));
            List<Prediction> full = predictor.predict(four);
            // same batch shape, so the same kernels: rows must be bit-identical whatever the 4th row holds
            assertThat(padded).usingRecursiveFieldByFieldElementComparator().isEqualTo(full.subList(0, 3));
        }
    }

    @Test
    void splitsLongListsIntoBatchesInOrder() {
        List<ModelInput> inputs = TestModels.randomInputs(5, TestModels.SIZE, 20);
        try (CxrPredictor two = new CxrPredictor(model, 2); CxrPredictor five = new CxrPredictor(model, 5)) {
            List<Prediction> chunked = two.predict(inputs);
            List<Prediction> whole = five.predict(inputs);
            assertThat(chunked).hasSize(5);
            for (int i = 0; i < 5; i++) {
                assertClose(chunked.get(i), whole.get(i));
            }
        }
    }

    @Test
    void resizesInputsOfAnotherSize() {
        int big = TestModels.SIZE * 2;
        byte[] cxr = new byte[big * big];
        byte[] lung = new byte[big * big];
        // 2x2 blocks of equal value: an exact 2x bilinear downsample gives back the small image.
        ModelInput small = TestModels.randomInput(TestModels.SIZE, 30);
        for (int y = 0; y < big; y++) {
            for (int x = 0; x < big; x++) {
                cxr[y * big + x] = small.cxr()[(y / 2) * TestModels.SIZE + x / 2];
                lung[y * big + x] = small.lung()[(y / 2) * TestModels.SIZE + x / 2];
            }
        }
        try (CxrPredictor predictor = new CxrPredictor(model, 2)) {
            List<Prediction> out = predictor.predict(List.of(new ModelInput(big, cxr, lung), small));
            assertClose(out.get(0), out.get(1));
        }
    }

    @Test
    void warmUpRuns() {
        try (CxrPredictor predictor = model.newPredictor(3)) {
            predictor.warmUp();
            assertThat(predictor.batchSize()).isEqualTo(3);
        }
    }

    @Test
    void batchShapesArePowersOfTwoBelowTheBatchSizeThenTheBatchSize() {
        assertThat(CxrPredictor.batchShapes(1)).containsExactly(1);
        assertThat(CxrPredictor.batchShapes(2)).containsExactly(1, 2);
        assertThat(CxrPredictor.batchShapes(4)).containsExactly(1, 2, 4);
        assertThat(CxrPredictor.batchShapes(5)).containsExactly(1, 2, 4, 5);
        assertThat(CxrPredictor.batchShapes(32)).containsExactly(1, 2, 4, 8, 16, 32);
    }

    @Test
    void aPartialBatchRunsAtTheSmallestShapeThatHoldsIt() {
        try (CxrPredictor predictor = new CxrPredictor(model, 4)) {
            assertThat(predictor.shapeFor(1)).isEqualTo(1);
            assertThat(predictor.shapeFor(2)).isEqualTo(2);
            assertThat(predictor.shapeFor(3)).isEqualTo(4);
            assertThat(predictor.shapeFor(4)).isEqualTo(4);
        }
    }

    @Test
    void aLoneInputScoresAsItDoesInAFullBatch() {
        List<ModelInput> inputs = TestModels.randomInputs(4, TestModels.SIZE, 60);
        try (CxrPredictor predictor = new CxrPredictor(model, 4)) {
            List<Prediction> full = predictor.predict(inputs);
            for (int i = 0; i < 4; i++) {
                assertClose(predictor.predict(inputs.get(i)), full.get(i));
            }
            List<Prediction> pair = predictor.predict(inputs.subList(2, 4));
            assertClose(pair.get(0), full.get(2));
            assertClose(pair.get(1), full.get(3));
        }
    }

    @Test
    void rejectsBadBatchSize() {
        assertThatThrownBy(() -> new CxrPredictor(model, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Different batch shapes make oneDNN pick different kernels, so float32 sums differ in the last bits.
     * Untrained nets give logits/embeddings of ~10-60, so the error scales with the vector's largest
     * magnitude: 1e-5 relative to max(1, max|expected|).
     */
    static void assertClose(Prediction actual, Prediction expected) {
        assertClose(new float[] {actual.probability()}, new float[] {expected.probability()});
        assertClose(actual.logits(), expected.logits());
        assertClose(actual.embedding(), expected.embedding());
    }

    private static void assertClose(float[] actual, float[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        float scale = 1f;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        float tolerance = TOLERANCE * scale;
        for (int i = 0; i < actual.length; i++) {
            assertThat(actual[i]).as("element %d", i).isCloseTo(expected[i], within(tolerance));
        }
    }
}
