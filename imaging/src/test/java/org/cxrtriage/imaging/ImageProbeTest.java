package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ImageProbeTest {
    private static final ImageLimits LIMITS = ImageLimits.defaults();
    private static final GrayImage IMAGE = TestImages.framed(300, 200, CropBox.full(300, 200), 0f);

    @Test
    void readsPngHeader() {
        ImageInfo info = ImageProbe.probe(TestImages.png(IMAGE), LIMITS);
        assertThat(info).isEqualTo(new ImageInfo(ImageFormat.PNG, 300, 200, 8, 1));
    }

    @Test
    void reads16BitAndRgbAndPaletteHeaders() {
        assertThat(ImageProbe.probe(TestImages.encode(TestImages.gray16(IMAGE), "png"), LIMITS))
                .isEqualTo(new ImageInfo(ImageFormat.PNG, 300, 200, 16, 1));
        assertThat(ImageProbe.probe(TestImages.encode(TestImages.rgb(IMAGE), "png"), LIMITS))
                .isEqualTo(new ImageInfo(ImageFormat.PNG, 300, 200, 8, 3));
        assertThat(ImageProbe.probe(TestImages.encode(TestImages.palette(IMAGE), "png"), LIMITS).format())
                .isEqualTo(ImageFormat.PNG);
    }

    @Test
    void readsJpegAndTiffHeaders() {
        assertThat(ImageProbe.probe(TestImages.encode(TestImages.gray8(IMAGE), "jpeg"), LIMITS))
                .isEqualTo(new ImageInfo(ImageFormat.JPEG, 300, 200, 8, 1));
        assertThat(ImageProbe.probe(TestImages.encode(TestImages.gray16(IMAGE), "tiff"), LIMITS))
                .isEqualTo(new ImageInfo(ImageFormat.TIFF, 300, 200, 16, 1));
    }

    @Test
    void rejectsEmpty() {
        assertReject(new byte[0], RejectReason.EMPTY);
        assertReject(null, RejectReason.EMPTY);
    }

    @Test
    void rejectsRandomBytes() {
        byte[] noise = new byte[4096];
        new Random(1).nextBytes(noise);
        noise[0] = 0x12; // make sure no signature matches by chance
        assertReject(noise, RejectReason.NOT_AN_IMAGE);
    }

    @Test
    void rejectsOtherImageFormatsAsUnsupported() {
        assertReject("GIF89a-and-more-bytes".getBytes(), RejectReason.UNSUPPORTED_FORMAT);
        byte[] dicom = new byte[256];
        dicom[128] = 'D';
        dicom[129] = 'I';
        dicom[130] = 'C';
        dicom[131] = 'M';
        // DICOM is decoded now: a preamble with no usable header is a broken file, not an unknown format.
        assertReject(dicom, RejectReason.TRUNCATED_OR_CORRUPT);
    }

    @Test
    void rejectsTooManyBytesBeforeParsing() {
        byte[] png = TestImages.png(IMAGE);
        ImageLimits tight = new ImageLimits(png.length - 1, ImageLimits.DEFAULT_MAX_PIXELS, 64);
        assertThatThrownBy(() -> ImageProbe.probe(png, tight))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> assertThat(e.code()).isEqualTo(RejectReason.TOO_MANY_BYTES));
    }

    @Test
    void rejectsTinyImage() {
        GrayImage tiny = TestImages.framed(10, 10, CropBox.full(10, 10), 0f);
        assertReject(TestImages.png(tiny), RejectReason.TOO_SMALL);
    }

    @Test
    void rejectsDecompressionBombFromTheHeaderAlone() {
        byte[] bomb = TestImages.pngHeaderOnly(100_000, 100_000);
        assertThat(bomb.length).isLessThan(100);
        // 10^10 pixels could not even be allocated: getting the reason proves nothing was decoded.
        assertReject(bomb, RejectReason.TOO_MANY_PIXELS);
        assertThatThrownBy(() -> ImageDecoder.decode(bomb, LIMITS))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> assertThat(e.code()).isEqualTo(RejectReason.TOO_MANY_PIXELS));
    }

    @Test
    void rejectsPngWithoutTrailer() {
        byte[] png = TestImages.png(IMAGE);
        byte[] cut = java.util.Arrays.copyOf(png, png.length - 12); // IEND removed
        assertReject(cut, RejectReason.TRUNCATED_OR_CORRUPT);
    }

    @Test
    void rejectsGarbageAfterSignature() {
        byte[] png = TestImages.png(IMAGE);
        byte[] broken = java.util.Arrays.copyOf(png, 40);
        for (int i = 12; i < broken.length; i++) {
            broken[i] = (byte) 0xEE;
        }
        assertReject(broken, RejectReason.TRUNCATED_OR_CORRUPT);
    }

    private static void assertReject(byte[] bytes, RejectReason reason) {
        assertThatThrownBy(() -> ImageProbe.probe(bytes, LIMITS))
                .isInstanceOfSatisfying(InvalidImageException.class, e -> assertThat(e.code()).isEqualTo(reason));
    }
}
