package org.cxrtriage.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CxrNetworkFactoryTest {

    @BeforeAll
    static void threads() {
        TestModels.init();
    }

    /** torchvision counts (weights + biases, no BatchNorm running stats) minus the ImageNet fc. */
    @ParameterizedTest
    @CsvSource({"RESNET18, 11176512", "RESNET34, 21284672", "RESNET50, 23508032"})
    void backboneHasStandardParameterCount(Backbone backbone, long expected) {
        Block block = CxrNetworkFactory.backbone(backbone);
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            block.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            assertThat(trainableParameters(block)).isEqualTo(expected);
        }
    }

    @Test
    void forwardGivesLogitsAndEmbedding() {
        Block block = CxrNetworkFactory.build(Backbone.RESNET18, 32);
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            Shape input = new Shape(2, 3, TestModels.SIZE, TestModels.SIZE);
            block.initialize(manager, DataType.FLOAT32, input);
            // head: 512*512+512 + 512*32+32 + 32*2+2
            assertThat(trainableParameters(block)).isEqualTo(11176512L + 262656 + 16416 + 66);
            NDList out = block.forward(new ParameterStore(manager, false), new NDList(manager.randomUniform(0, 1, input)),
                    false);
            assertThat(out.getShapes()).containsExactly(new Shape(2, 2), new Shape(2, 32));
            assertThat(out.get(CxrNetworkFactory.EMBEDDING).min().getFloat()).isGreaterThanOrEqualTo(0f); // after ReLU
            assertThat(block.getOutputShapes(new Shape[] {input})).containsExactly(new Shape(2, 2), new Shape(2, 32));
        }
    }

    @Test
    void inferenceFreesIntermediateActivations() {
        Block block = CxrNetworkFactory.build(Backbone.RESNET18);
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            Shape input = new Shape(2, 3, TestModels.SIZE, TestModels.SIZE);
            block.initialize(manager, DataType.FLOAT32, input);
            try (NDManager batch = manager.newSubManager()) {
                NDList out = block.forward(new ParameterStore(batch, false), new NDList(batch.zeros(input)), false);
                // only the input, the logits and the embedding are left (plain DJL blocks keep all 75)
                assertThat(batch.getManagedArrays()).hasSize(3).containsAll(out);
            }
        }
    }

    private static long trainableParameters(Block block) {
        return block.getParameters().values().stream()
                .filter(p -> p.getType() != Parameter.Type.RUNNING_MEAN && p.getType() != Parameter.Type.RUNNING_VAR)
                .mapToLong(p -> p.getArray().size())
                .sum();
    }
}
