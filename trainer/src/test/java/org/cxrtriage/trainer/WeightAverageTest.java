package org.cxrtriage.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import org.junit.jupiter.api.Test;

class WeightAverageTest {

    private static void setAll(Block block, float value) {
        block.getParameters().values().forEach(p -> p.getArray().muli(0).addi(value));
    }

    private static float[] weights(Block block) {
        return block.getParameters().get("weight").getArray().toFloatArray();
    }

    @Test
    void averagesWithWarmUpAppliesAndRestores() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Block block = Linear.builder().setUnits(2).build();
            block.initialize(manager, DataType.FLOAT32, new Shape(1, 3));
            setAll(block, 1f);
            try (WeightAverage average = new WeightAverage(block.getParameters(), 0.5)) {
                // Update n keeps min(0.5, (1 + n) / (10 + n)) of the average: 0.1, then 2/11, ..., 0.5 from n = 8.
                assertThat(average.nextDecay()).isCloseTo(0.1, within(1e-12));
                setAll(block, 11f);
                average.update(); // 0.1 * 1 + 0.9 * 11 = 10
                assertThat(average.nextDecay()).isCloseTo(2.0 / 11, within(1e-12));
                setAll(block, 0f);
                average.update(); // 2/11 * 10 + 9/11 * 0
                try (WeightAverage.Applied applied = average.apply()) {
                    for (float w : weights(block)) {
                        assertThat((double) w).isCloseTo(20.0 / 11, within(1e-5));
                    }
                    NDArray bias = block.getParameters().get("bias").getArray();
                    assertThat((double) bias.toFloatArray()[0]).isCloseTo(20.0 / 11, within(1e-5));
                }
                assertThat(weights(block)).containsOnly(0f);
                for (int n = 2; n < 8; n++) {
                    average.update();
                }
                assertThat(average.nextDecay()).isEqualTo(0.5);
            }
        }
    }

    @Test
    void refusesADecayOutsideZeroToOne() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Block block = Linear.builder().setUnits(1).build();
            block.initialize(manager, DataType.FLOAT32, new Shape(1, 1));
            assertThatThrownBy(() -> new WeightAverage(block.getParameters(), 1.0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("decay");
            assertThatThrownBy(() -> new WeightAverage(block.getParameters(), 0))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
