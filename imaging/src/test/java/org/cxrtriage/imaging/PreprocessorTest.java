package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PreprocessorTest {
    private static final CropBox TRUTH = new CropBox(50, 40, 400, 260);

    /** A landscape radiograph in a black frame with burned-in text on top. */
    private static GrayImage framedWithText() {
        GrayImage image = TestImages.framed(500, 340, TRUTH, 0f);
        for (int i = 0; i < 10; i++) {
            TestImages.fill(image, 60 + i * 25, 8, 4, 20, 1f);
        }
        return image;
    }

    @Test
    void producesSquareUint8PlaneWithCropAndTimings() {
        Preprocessor preprocessor = new Preprocessor(PreprocessConfig.ofSize(256));
        PreprocessedImage out = preprocessor.process(TestImages.png(framedWithText()));
        assertThat(out.size()).isEqualTo(256);
        assertThat(out.cxr()).hasSize(256 * 256);
        assertThat(out.originalWidth()).isEqualTo(500);
        assertThat(out.originalHeight()).isEqualTo(340);
        assertThat(out.crop().x()).isCloseTo(TRUTH.x(), within(2));
        assertThat(out.crop().y()).isCloseTo(TRUTH.y(), within(2));
        assertThat(out.crop().right()).isCloseTo(TRUTH.right(), within(2));
        assertThat(out.crop().bottom()).isCloseTo(TRUTH.bottom(), within(2));
        assertThat(out.decodeMs()).isPositive();
        assertThat(out.normaliseMs()).isPositive();
    }

    @Test
    void keepsAspectRatioWithBlackPaddingAndStandardisedContent() {
        PreprocessedImage out = new Preprocessor(PreprocessConfig.ofSize(256)).process(framedWithText());
        // 400x260 content in a 256 square: 166 rows of content, 45 padding rows above and below.
        int contentRows = (int) Math.round(256 * 260 / 400.0);
        int top = (256 - contentRows) / 2;
        byte[] p = out.cxr();
        assertThat(rowMean(p, 256, 2)).isZero();
        assertThat(rowMean(p, 256, top - 3)).isZero();
        assertThat(rowMean(p, 256, top + contentRows + 2)).isZero();
        byte[] content = Arrays.copyOfRange(p, (top + 3) * 256, (top + contentRows - 3) * 256);
        assertThat(TestImages.mean(content)).isCloseTo(128.0, within(4.0));
    }

    @Test
    void isDeterministicAndAgreesWithTheDecodedPath() {
        Preprocessor preprocessor = new Preprocessor(PreprocessConfig.ofSize(128));
        GrayImage image = framedWithText();
        byte[] png = TestImages.png(image);
        byte[] a = preprocessor.process(png).cxr();
        byte[] b = preprocessor.process(png).cxr();
        assertThat(a).isEqualTo(b);
        // 8-bit PNG decodes exactly to the quantised image.
        GrayImage quantised = GrayImage.fromUint8(image.width(), image.height(), image.toUint8());
        assertThat(preprocessor.process(quantised).cxr()).isEqualTo(a);
    }

    @Test
    void earlyDownscaleBarelyChangesTheResult() {
        // Structures of 50+ px ("ribs", "vessels"): detail finer than the output pixel, such as noise, is
        // legitimately treated differently (RealDataTest compares on a real radiograph).
        int w = 2400;
        int h = 2000;
        float[] p = new float[w * h];
        for (int y = 80; y < 1920; y++) {
            for (int x = 100; x < 2300; x++) {
                p[y * w + x] = (float) (0.5 + 0.2 * Math.sin(x * 0.003) * Math.cos(y * 0.002)
                        + 0.1 * Math.sin(y * 0.06) + 0.05 * Math.sin((x + y) * 0.12));
            }
        }
        GrayImage big = new GrayImage(w, h, p);
        PreprocessConfig config = PreprocessConfig.ofSize(256);
        byte[] fast = new Preprocessor(config).process(big).cxr();
        byte[] fullResolution = new Preprocessor(config.withWorkingScale(100)).process(big).cxr();
        double diff = meanAbsDiff(fast, fullResolution);
        System.out.printf("synthetic 2400x2000: working scale 2 vs full resolution mean |diff| %.2f levels%n", diff);
        assertThat(diff).isLessThan(3.0);
    }

    @Test
    void rejectsBlankImages() {
        Preprocessor preprocessor = new Preprocessor(PreprocessConfig.ofSize(256));
        GrayImage black = new GrayImage(200, 200, new float[200 * 200]);
        assertBlank(preprocessor, TestImages.png(black));
        float[] white = new float[200 * 200];
        Arrays.fill(white, 1f);
        assertBlank(preprocessor, TestImages.png(new GrayImage(200, 200, white)));
    }

    @Test
    void passesDecodeRejectionsThrough() {
        Preprocessor preprocessor = new Preprocessor(PreprocessConfig.defaults());
        assertThatThrownBy(() -> preprocessor.process(new byte[0]))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> assertThat(e.code()).isEqualTo(RejectReason.EMPTY));
    }

    @Test
    void configDefaultsAndFingerprint() {
        PreprocessConfig config = PreprocessConfig.defaults();
        assertThat(config.size()).isEqualTo(1024);
        assertThat(config.claheClipLimit()).isEqualTo(2.0);
        assertThat(config.claheTiles()).isEqualTo(8);
        assertThat(config.fingerprint()).isEqualTo(PreprocessConfig.VERSION + ";size=1024;clahe=2.00x8;work=2.00");
        assertThatThrownBy(() -> PreprocessConfig.ofSize(0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertBlank(Preprocessor preprocessor, byte[] bytes) {
        assertThatThrownBy(() -> preprocessor.process(bytes))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> assertThat(e.code()).isEqualTo(RejectReason.BLANK));
    }

    private static double rowMean(byte[] p, int size, int row) {
        return TestImages.mean(Arrays.copyOfRange(p, row * size, (row + 1) * size));
    }

    static double meanAbsDiff(byte[] a, byte[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
        }
        return sum / a.length;
    }
}
