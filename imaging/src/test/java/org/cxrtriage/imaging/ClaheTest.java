package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ClaheTest {

    /**
     * OpenCV's Java objects free their native object in finalize(); a CLAHE collected while its own native apply runs
     * crashed the preprocess service (SIGSEGV in CLAHE_Interpolation_Body). {@link ClaheFinalizerStress} provokes
     * collections every few milliseconds during CLAHE on two threads, in a child JVM so that a crash fails this test
     * instead of killing the test run. Without the fence in {@link Clahe} it crashed within 8 s, twice out of two.
     */
    @Test
    void survivesGarbageCollectionDuringNativeCalls() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-Xmx64m", "-Xmn2m", "-XX:+UseSerialGC",
                "-XX:-CreateCoredumpOnCrash", "-XX:ErrorFile=" + System.getProperty("java.io.tmpdir")
                + "/clahe-stress-hs_err_%p.log",
                "-cp", System.getProperty("java.class.path"), ClaheFinalizerStress.class.getName(), "15")
                .redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes());
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as(output).isZero();
        assertThat(output).contains(" 0 failed");
    }

    @Test
    void increasesLocalContrastOfALowContrastImage() {
        int n = 256;
        float[] p = new float[n * n];
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                p[y * n + x] = 0.45f + 0.05f * (float) Math.sin(x * 0.3) * (float) Math.cos(y * 0.2);
            }
        }
        GrayImage image = new GrayImage(n, n, p);
        GrayImage out = Clahe.apply(image);
        CropBox tile = new CropBox(96, 96, 32, 32);
        assertThat(std(out.crop(tile))).isGreaterThan(1.5 * std(image.crop(tile)));
    }

    @Test
    void preservesOrderOnARamp() {
        int w = 256;
        int h = 64;
        float[] p = new float[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                p[y * w + x] = 0.2f + 0.6f * x / (w - 1);
            }
        }
        GrayImage out = Clahe.apply(new GrayImage(w, h, p), 2.0, 8);
        int step = 32; // about 19 input levels
        for (int y = 0; y < h; y += 7) {
            for (int x = 1; x < w; x++) {
                // Blending neighbouring tiles' curves lets nearby pixels wobble by a level or two, but
                // intensities clearly apart must never swap order.
                assertThat(out.get(x, y)).as("x=%d y=%d", x, y).isGreaterThanOrEqualTo(out.get(x - 1, y) - 2.01f / 255f);
                if (x >= step) {
                    assertThat(out.get(x, y)).as("x=%d y=%d", x, y).isGreaterThan(out.get(x - step, y));
                }
            }
            assertThat(out.get(w - 1, y) - out.get(0, y)).isGreaterThan(0.5f);
        }
    }

    @Test
    void outputIsEightBitLevelsInRange() {
        GrayImage image = TestImages.framed(200, 150, CropBox.full(200, 150), 0f);
        for (float v : Clahe.apply(image).pixels()) {
            assertThat(v).isBetween(0f, 1f);
            assertThat(v * 255f).isCloseTo(Math.round(v * 255f), org.assertj.core.api.Assertions.within(1e-3f));
        }
    }

    @Test
    void sameInputSameOutput() {
        GrayImage image = TestImages.framed(200, 150, CropBox.full(200, 150), 0f);
        assertThat(Clahe.apply(image).pixels()).isEqualTo(Clahe.apply(image).pixels());
    }

    static double std(GrayImage image) {
        double sum = 0;
        double sq = 0;
        for (float v : image.pixels()) {
            sum += v;
            sq += v * v;
        }
        double mean = sum / image.pixels().length;
        return Math.sqrt(Math.max(0, sq / image.pixels().length - mean * mean));
    }
}
