package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImageDecoderTest {
    private static final ImageLimits LIMITS = ImageLimits.defaults();
    private static final GrayImage IMAGE = TestImages.framed(320, 240, new CropBox(20, 10, 280, 220), 0f);

    @Test
    void decodes8BitGrayPngExactly() {
        GrayImage decoded = ImageDecoder.decode(TestImages.png(IMAGE), LIMITS);
        assertThat(decoded.width()).isEqualTo(320);
        assertThat(decoded.height()).isEqualTo(240);
        assertThat(decoded.toUint8()).isEqualTo(IMAGE.toUint8());
    }

    @Test
    void decodes16BitGrayPngWithFullPrecision() {
        GrayImage decoded = ImageDecoder.decode(TestImages.encode(TestImages.gray16(IMAGE), "png"), LIMITS);
        for (int i = 0; i < IMAGE.pixels().length; i += 97) {
            float expected = Math.round(IMAGE.pixels()[i] * 65535f) / 65535f;
            assertThat(decoded.pixels()[i]).isCloseTo(expected, within(1e-6f));
        }
    }

    @Test
    void decodesRgbAndPaletteAsLuminance() {
        GrayImage fromRgb = ImageDecoder.decode(TestImages.encode(TestImages.rgb(IMAGE), "png"), LIMITS);
        GrayImage fromPalette = ImageDecoder.decode(TestImages.encode(TestImages.palette(IMAGE), "png"), LIMITS);
        byte[] expected = IMAGE.toUint8();
        assertThat(fromRgb.toUint8()).isEqualTo(expected);
        assertThat(fromPalette.toUint8()).isEqualTo(expected);
    }

    @Test
    void decodesRgbaIgnoringAlpha() {
        java.awt.image.BufferedImage rgba = new java.awt.image.BufferedImage(100, 80, java.awt.image.BufferedImage.TYPE_4BYTE_ABGR);
        for (int y = 0; y < 80; y++) {
            for (int x = 0; x < 100; x++) {
                rgba.setRGB(x, y, (128 << 24) | (200 << 16) | (100 << 8) | 50); // half transparent
            }
        }
        GrayImage decoded = ImageDecoder.decode(TestImages.encode(rgba, "png"), LIMITS);
        float luma = (0.299f * 200 + 0.587f * 100 + 0.114f * 50) / 255f;
        // libpng's colour-to-gray result is an 8-bit level: within half a level of the exact luma.
        assertThat(decoded.get(50, 40)).isCloseTo(luma, within(0.5f / 255f));
    }

    @Test
    void decodesJpegApproximately() {
        GrayImage decoded = ImageDecoder.decode(TestImages.encode(TestImages.gray8(IMAGE), "jpeg"), LIMITS);
        assertThat(meanAbsDiff(decoded, IMAGE)).isLessThan(0.02);
        GrayImage fromColour = ImageDecoder.decode(TestImages.encode(TestImages.rgb(IMAGE), "jpeg"), LIMITS);
        assertThat(meanAbsDiff(fromColour, IMAGE)).isLessThan(0.02);
    }

    @Test
    void decodesTiff8And16Bit() {
        GrayImage tiff8 = ImageDecoder.decode(TestImages.encode(TestImages.gray8(IMAGE), "tiff"), LIMITS);
        assertThat(tiff8.toUint8()).isEqualTo(IMAGE.toUint8());
        GrayImage tiff16 = ImageDecoder.decode(TestImages.encode(TestImages.gray16(IMAGE), "tiff"), LIMITS);
        assertThat(meanAbsDiff(tiff16, IMAGE)).isLessThan(1e-4);
    }

    /**
     * The same 8-bit gray samples give the same floats whichever reader takes the file: the PNG routes (PngGray,
     * libpng) and the Java readers (TIFF here; a PNG that only the Java reader reads). They used to differ in the last
     * bit for half the levels (k · (1 / 255f) against k / 255f).
     */
    @Test
    void eightBitGrayDecodesToTheSameFloatsWhicheverReaderTakesIt() {
        GrayImage ramp = new GrayImage(256, 64, new float[256 * 64]);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 256; x++) {
                ramp.pixels()[y * 256 + x] = x / 255f; // every level
            }
        }
        float[] viaPng = ImageDecoder.decode(TestImages.png(ramp), LIMITS).pixels();
        float[] viaTiff = ImageDecoder.decode(TestImages.encode(TestImages.gray8(ramp), "tiff"), LIMITS).pixels();
        assertThat(viaTiff).containsExactly(viaPng);
        assertThat(viaPng).containsExactly(ramp.pixels());
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.3, 0.6, 0.9, 0.99})
    void rejectsTruncatedPng(double keep) {
        byte[] png = TestImages.png(IMAGE);
        byte[] cut = Arrays.copyOf(png, (int) (png.length * keep));
        assertReject(cut, RejectReason.TRUNCATED_OR_CORRUPT);
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.3, 0.6, 0.9, 0.99})
    void rejectsTruncatedJpeg(double keep) {
        byte[] jpeg = TestImages.encode(TestImages.gray8(IMAGE), "jpeg");
        byte[] cut = Arrays.copyOf(jpeg, (int) (jpeg.length * keep));
        assertReject(cut, RejectReason.TRUNCATED_OR_CORRUPT);
    }

    @Test
    void rejectsTruncatedPngEvenWithItsTrailerPutBack() {
        // Defeats the cheap IEND check, so the reader itself must notice the missing image data.
        byte[] png = TestImages.png(IMAGE);
        byte[] cut = Arrays.copyOf(png, (int) (png.length * 0.7) + 12);
        System.arraycopy(png, png.length - 12, cut, cut.length - 12, 12);
        assertReject(cut, RejectReason.TRUNCATED_OR_CORRUPT);
    }

    @Test
    void rejectsTruncatedTiff() {
        byte[] tiff = TestImages.encode(TestImages.gray8(IMAGE), "tiff");
        byte[] cut = Arrays.copyOf(tiff, tiff.length / 2);
        assertReject(cut, RejectReason.TRUNCATED_OR_CORRUPT);
    }

    @Test
    void rejectsCorruptedPngData() {
        byte[] png = TestImages.png(IMAGE);
        byte[] damaged = png.clone();
        for (int i = 100; i < 400; i++) {
            damaged[i] = (byte) (damaged[i] ^ 0x5A);
        }
        assertReject(damaged, RejectReason.TRUNCATED_OR_CORRUPT);
    }

    @Test
    void rejectsTinyImageBeforeDecoding() {
        assertReject(TestImages.png(TestImages.framed(10, 10, CropBox.full(10, 10), 0f)), RejectReason.TOO_SMALL);
    }

    private static void assertReject(byte[] bytes, RejectReason reason) {
        assertThatThrownBy(() -> ImageDecoder.decode(bytes, LIMITS))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> assertThat(e.code()).isEqualTo(reason));
    }

    static double meanAbsDiff(GrayImage a, GrayImage b) {
        double sum = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            sum += Math.abs(a.pixels()[i] - b.pixels()[i]);
        }
        return sum / a.pixels().length;
    }
}
