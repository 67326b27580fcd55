package org.cxrtriage.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BatchNormFoldingTest {
    private static final List<ModelInput> INPUTS = TestModels.randomInputs(3, TestModels.SIZE, 11L);

    @BeforeAll
    static void threads() {
        TestModels.init();
    }

    private static ModelMetadata metadata(Backbone backbone) {
        return new ModelMetadata("cxr", "1", backbone, TestModels.SIZE, 32, 0.5, 3L, true, Instant.now(), null,
                InputView.FULL);
    }

    /**
     * A freshly initialised network normalises with mean 0 and variance 1, which would hide a wrong formula: give
     * every BatchNorm statistics and an affine map like a trained one's. The stem's has variances near epsilon, so a
     * fold with another epsilon fails (there only: 50 layers of that would overflow).
     */
    private static void trainLikeStatistics(Block block, long seed) {
        Random random = new Random(seed);
        boolean stem = true;
        for (Parameter p : block.getParameters().values()) {
            boolean nearEpsilon = stem && p.getType() == Parameter.Type.RUNNING_VAR;
            NDArray array = p.getArray();
            float[] values = new float[Math.toIntExact(array.size())];
            for (int i = 0; i < values.length; i++) {
                values[i] = switch (p.getType()) {
                    case GAMMA -> 0.5f + random.nextFloat();
                    case BETA -> (float) random.nextGaussian() * 0.2f;
                    case RUNNING_MEAN -> (float) random.nextGaussian() * 0.5f;
                    case RUNNING_VAR -> nearEpsilon && i % 4 == 0 ? 2e-5f : 0.5f + 2 * random.nextFloat();
                    default -> Float.NaN;
                };
            }
            if (!Float.isNaN(values[0])) {
                array.set(values);
            }
            stem &= !nearEpsilon;
        }
    }

    @ParameterizedTest
    @EnumSource(value = Backbone.class, names = {"RESNET18", "RESNET50"})
    void foldedNetworkGivesTheTrainedOutputs(Backbone backbone) {
        try (LoadedModel trained = ModelDirectory.initialise(metadata(backbone), Device.cpu())) {
            trainLikeStatistics(trained.model().getBlock(), 5L);
            List<Prediction> expected;
            try (CxrPredictor predictor = new CxrPredictor(trained, 2)) {
                expected = predictor.predict(INPUTS);
            }
            try (LoadedModel folded = BatchNormFolding.fold(trained);
                    CxrPredictor predictor = new CxrPredictor(folded, 2)) {
                assertThat(folded.model().getBlock().getParameters().values())
                        .noneMatch(p -> p.getType() == Parameter.Type.GAMMA || p.getType() == Parameter.Type.RUNNING_VAR);
                List<Prediction> actual = predictor.predict(INPUTS);
                for (int i = 0; i < INPUTS.size(); i++) {
                    assertClose(actual.get(i).logits(), expected.get(i).logits());
                    assertClose(actual.get(i).embedding(), expected.get(i).embedding());
                    assertThat(actual.get(i).probability())
                            .isCloseTo(expected.get(i).probability(), org.assertj.core.data.Offset.offset(1e-4f));
                }
                // the outputs depend on the statistics: a fold that ignored them would not pass the checks above
                assertThat(expected.get(0).logits()).isNotEqualTo(expected.get(1).logits());
            }
        }
    }

    private static void assertClose(float[] actual, float[] expected) {
        float scale = 0;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        assertThat(scale).isGreaterThan(0f);
        for (int k = 0; k < expected.length; k++) {
            assertThat(Math.abs(actual[k] - expected[k])).as("element %d of %d", k, expected.length)
                    .isLessThanOrEqualTo(1e-4f * Math.max(1f, scale));
        }
    }

    @Test
    void networksThatDoNotMatchAreRefused() {
        try (LoadedModel trained = ModelDirectory.initialise(metadata(Backbone.RESNET18), Device.cpu());
                NDManager manager = TorchRuntime.engine().newBaseManager()) {
            Block other = CxrNetworkFactory.buildFolded(Backbone.RESNET34, 32);
            assertThatThrownBy(() -> BatchNormFolding.copyFolded(
                    trained.model().getBlock().getParameters(), other.getParameters(), manager))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("parameters");
            Block unfolded = CxrNetworkFactory.build(Backbone.RESNET18, 32);
            assertThatThrownBy(() -> BatchNormFolding.copyFolded(
                    trained.model().getBlock().getParameters(), unfolded.getParameters(), manager))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("expected a BIAS parameter");
        }
    }
}
