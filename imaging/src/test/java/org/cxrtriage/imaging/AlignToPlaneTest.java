package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Masks brought onto the preprocessed plane must land exactly where the image content they outline lands. */
class AlignToPlaneTest {
    private static final CropBox RADIOGRAPH = new CropBox(60, 30, 420, 280);

    @Test
    void maskFollowsTheCropPadAndResizeOfItsImage() {
        // A landscape radiograph in a black frame (cropped away, then padded top and bottom) with a bright block.
        GrayImage image = TestImages.framed(520, 360, RADIOGRAPH, 0f);
        for (int i = 0; i < image.pixels().length; i++) {
            image.pixels()[i] *= 0.4f; // texture well below the block
        }
        TestImages.fill(image, 150, 90, 120, 100, 1f);
        float[] mask = new float[520 * 360];
        for (int y = 90; y < 190; y++) {
            for (int x = 150; x < 270; x++) {
                mask[y * 520 + x] = 1f;
            }
        }
        Preprocessor preprocessor = new Preprocessor(PreprocessConfig.ofSize(256));
        PreprocessedImage plane = preprocessor.process(image);
        byte[] aligned = preprocessor.alignToPlane(new GrayImage(520, 360, mask), plane);
        assertThat(aligned).hasSize(256 * 256);

        // The block is the brightest thing on the plane (CLAHE keeps it above its surroundings): pixels above the
        // level halfway between the block and the rest must be the mask's pixels.
        double inSum = 0;
        double outSum = 0;
        long inMask = 0;
        long outside = 0;
        for (int i = 0; i < aligned.length; i++) {
            int v = plane.cxr()[i] & 0xFF;
            if ((aligned[i] & 0xFF) >= 128) {
                inSum += v;
                inMask++;
            } else if (v > 0) {
                outSum += v;
                outside++;
            }
        }
        double level = (inSum / inMask + outSum / outside) / 2;
        long both = 0;
        long bright = 0;
        for (int i = 0; i < aligned.length; i++) {
            boolean b = (plane.cxr()[i] & 0xFF) > level;
            bright += b ? 1 : 0;
            both += b && (aligned[i] & 0xFF) >= 128 ? 1 : 0;
        }
        double dice = 2.0 * both / (inMask + bright);
        assertThat(inMask).as("mask pixels on the plane").isBetween(3000L, 6000L); // 120x100 scaled by 256/420
        assertThat(dice).as("Dice of the bright block and the aligned mask").isGreaterThan(0.95);
    }

    @Test
    void refusesAPlaneOfAnotherSize() {
        Preprocessor preprocessor = new Preprocessor(PreprocessConfig.ofSize(64));
        PreprocessedImage plane = preprocessor.process(TestImages.framed(200, 150, new CropBox(10, 10, 180, 130), 0f));
        assertThatThrownBy(() -> preprocessor.alignToPlane(new GrayImage(100, 150, new float[100 * 150]), plane))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
