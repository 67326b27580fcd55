package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class BrightnessStandardiserTest {

    @Test
    void mapsContentMeanTo128AndZeroesPadding() {
        GrayImage dark = scaled(TestImages.framed(200, 200, new CropBox(0, 30, 200, 140), 0f), 0.4f);
        CropBox content = new CropBox(0, 30, 200, 140);
        GrayImage out = BrightnessStandardiser.apply(dark, content);
        assertThat(TestImages.mean(out.crop(content).toUint8())).isCloseTo(128.0, within(2.0));
        assertThat(TestImages.mean(out.crop(new CropBox(0, 0, 200, 30)).toUint8())).isZero();
        assertThat(TestImages.mean(out.crop(new CropBox(0, 170, 200, 30)).toUint8())).isZero();
    }

    @Test
    void differentlyExposedCopiesLookAlike() {
        GrayImage image = TestImages.framed(160, 160, CropBox.full(160, 160), 0f);
        GrayImage dim = scaled(image, 0.5f);
        CropBox all = CropBox.full(160, 160);
        GrayImage a = BrightnessStandardiser.apply(image, all);
        GrayImage b = BrightnessStandardiser.apply(dim, all);
        assertThat(ImageDecoderTest.meanAbsDiff(a, b)).isLessThan(2.0 / 255);
    }

    @Test
    void mapsThreeStandardDeviationsToTheRange() {
        // Two-valued content: mean 0.5, std 0.1 -> values at ±1 std land at 128 ± 42.5.
        float[] p = new float[100 * 100];
        for (int i = 0; i < p.length; i++) {
            p[i] = i % 2 == 0 ? 0.4f : 0.6f;
        }
        byte[] out = BrightnessStandardiser.apply(new GrayImage(100, 100, p), CropBox.full(100, 100)).toUint8();
        assertThat(out[0] & 0xFF).isCloseTo(86, within(1));
        assertThat(out[1] & 0xFF).isCloseTo(171, within(1));
    }

    @Test
    void constantContentBecomesMidGray() {
        float[] p = new float[64 * 64];
        java.util.Arrays.fill(p, 0.9f);
        byte[] out = BrightnessStandardiser.apply(new GrayImage(64, 64, p), CropBox.full(64, 64)).toUint8();
        assertThat(out[0] & 0xFF).isEqualTo(128);
    }

    private static GrayImage scaled(GrayImage image, float factor) {
        float[] p = image.pixels().clone();
        for (int i = 0; i < p.length; i++) {
            p[i] *= factor;
        }
        return new GrayImage(image.width(), image.height(), p);
    }
}
