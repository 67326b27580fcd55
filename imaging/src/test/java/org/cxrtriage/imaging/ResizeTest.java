package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.opencv.imgproc.Imgproc;

class ResizeTest {

    @Test
    void producesExactSize() {
        GrayImage image = TestImages.framed(333, 333, CropBox.full(333, 333), 0f);
        for (int size : new int[] {64, 256, 1024}) {
            GrayImage out = Resize.square(image, size);
            assertThat(out.width()).isEqualTo(size);
            assertThat(out.height()).isEqualTo(size);
            assertThat(out.pixels()).hasSize(size * size);
        }
    }

    @Test
    void keepsConstantsAndMean() {
        float[] p = new float[300 * 300];
        Arrays.fill(p, 0.25f);
        GrayImage out = Resize.square(new GrayImage(300, 300, p), 97);
        for (float v : out.pixels()) {
            assertThat(v).isCloseTo(0.25f, within(1e-5f));
        }
        GrayImage textured = TestImages.framed(512, 512, CropBox.full(512, 512), 0f);
        assertThat(mean(Resize.square(textured, 128))).isCloseTo(mean(textured), within(0.01));
    }

    @Test
    void bilinearUpToTwiceThenAreaAveraging() {
        assertThat(Resize.interpolation(2048, 2048, 1024, 1024)).isEqualTo(Imgproc.INTER_LINEAR);
        assertThat(Resize.interpolation(512, 512, 1024, 1024)).isEqualTo(Imgproc.INTER_LINEAR);
        assertThat(Resize.interpolation(3000, 3000, 1024, 1024)).isEqualTo(Imgproc.INTER_AREA);
    }

    private static double mean(GrayImage image) {
        double s = 0;
        for (float v : image.pixels()) {
            s += v;
        }
        return s / image.pixels().length;
    }
}
