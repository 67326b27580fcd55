package org.cxrtriage.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class InputEncoderTest {

    @Test
    void normalisesChannelsWithImageNetStatistics() {
        byte[] cxr = {0, (byte) 255, 0, (byte) 255};
        byte[] lung = {(byte) 255, (byte) 255, 0, 0};
        float[] out = InputEncoder.encode(new ModelInput(2, cxr, lung), 2);
        assertThat(out).hasSize(12);
        assertThat(out[0]).isCloseTo(-0.485f / 0.229f, within(1e-6f));
        assertThat(out[1]).isCloseTo((1 - 0.485f) / 0.229f, within(1e-6f));
        assertThat(out[4]).isCloseTo((1 - 0.456f) / 0.224f, within(1e-6f));
        assertThat(out[11]).isCloseTo(-0.406f / 0.225f, within(1e-6f));
    }

    @Test
    void bilinearResizeMatchesHalfPixelConvention() {
        // 2x2 -> 4x4 (PyTorch align_corners=false): row [10, 30] becomes [10, 15, 25, 30]
        byte[] src = {10, 30, 10, 30};
        float[] dst = new float[16];
        InputEncoder.resizeBilinear(src, 2, 4, dst, 0);
        assertThat(new float[] {dst[0], dst[1], dst[2], dst[3]}).containsExactly(10f, 15f, 25f, 30f);
        // 4x4 -> 2x2 averages 2x2 blocks
        byte[] big = new byte[16];
        for (int i = 0; i < 16; i++) {
            big[i] = (byte) (i * 10);
        }
        float[] small = new float[4];
        InputEncoder.resizeBilinear(big, 4, 2, small, 0);
        assertThat(small).containsExactly(25f, 45f, 105f, 125f);
    }

    /** The halving path (256 -> 128, the shipped sizes) must give exactly what the general resize gives. */
    @Test
    void halvingGivesTheBilinearResizeBitForBit() {
        for (int[] sizes : new int[][] {{256, 128}, {6, 3}}) {
            ModelInput input = TestModels.randomInput(sizes[0], sizes[0]);
            int size = sizes[1];
            float[] encoded = InputEncoder.encode(input, size);
            byte[][] planes = {input.cxr(), input.lung()};
            for (int c = 0; c < 2; c++) {
                float[] resized = new float[size * size];
                InputEncoder.resizeBilinear(planes[c], sizes[0], size, resized, 0);
                for (int i = 0; i < resized.length; i++) {
                    float expected = (resized[i] / 255f - InputEncoder.mean(c)) / InputEncoder.std(c);
                    assertThat(Float.floatToRawIntBits(encoded[c * size * size + i])).as("channel %d pixel %d", c, i)
                            .isEqualTo(Float.floatToRawIntBits(expected));
                }
            }
        }
    }
}
