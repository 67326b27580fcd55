package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class DicomImageTest {

    /** Writes a minimal single-frame grayscale DICOM file (Part 10) in code. */
    static final class DicomWriter {
        String syntax = DicomImage.EXPLICIT_LE;
        String photometric = "MONOCHROME2";
        String view = "PA";
        int rows = 80;
        int cols = 96;
        String slope = "1";
        String intercept = "0";
        String windowCenter;
        String windowWidth;
        int declaredRows = -1;
        int pixelBytesKept = -1;

        byte[] write(java.util.function.IntBinaryOperator pixel) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(new byte[128]);
            out.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
            element(out, 0x0002, 0x0010, "UI", even(syntax), true);
            boolean explicit = !syntax.equals(DicomImage.IMPLICIT_LE);
            element(out, 0x0008, 0x0060, "CS", even("DX"), explicit);
            element(out, 0x0018, 0x5101, "CS", even(view), explicit);
            element(out, 0x0028, 0x0002, "US", u16(1), explicit);
            element(out, 0x0028, 0x0004, "CS", even(photometric), explicit);
            element(out, 0x0028, 0x0010, "US", u16(declaredRows >= 0 ? declaredRows : rows), explicit);
            element(out, 0x0028, 0x0011, "US", u16(cols), explicit);
            element(out, 0x0028, 0x0100, "US", u16(16), explicit);
            element(out, 0x0028, 0x0101, "US", u16(12), explicit);
            element(out, 0x0028, 0x0102, "US", u16(11), explicit);
            element(out, 0x0028, 0x0103, "US", u16(0), explicit);
            if (windowCenter != null) {
                element(out, 0x0028, 0x1050, "DS", even(windowCenter), explicit);
                element(out, 0x0028, 0x1051, "DS", even(windowWidth), explicit);
            }
            element(out, 0x0028, 0x1052, "DS", even(intercept), explicit);
            element(out, 0x0028, 0x1053, "DS", even(slope), explicit);
            ByteBuffer px = ByteBuffer.allocate(rows * cols * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (int y = 0; y < rows; y++) {
                for (int x = 0; x < cols; x++) {
                    px.putShort((short) pixel.applyAsInt(x, y));
                }
            }
            byte[] data = px.array();
            element(out, 0x7FE0, 0x0010, "OW", data, explicit);
            byte[] all = out.toByteArray();
            return pixelBytesKept >= 0 ? Arrays.copyOf(all, all.length - data.length + pixelBytesKept) : all;
        }

        private static void element(ByteArrayOutputStream out, int group, int elem, String vr, byte[] value,
                                    boolean explicit) {
            ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            h.putShort((short) group).putShort((short) elem);
            if (!explicit) {
                h.putInt(value.length);
            } else if (vr.equals("OW") || vr.equals("OB")) {
                h.put(vr.getBytes(StandardCharsets.US_ASCII)).putShort((short) 0).putInt(value.length);
            } else {
                h.put(vr.getBytes(StandardCharsets.US_ASCII)).putShort((short) value.length);
            }
            out.write(h.array(), 0, h.position());
            out.writeBytes(value);
        }

        private static byte[] even(String s) {
            String v = s.length() % 2 == 0 ? s : s + " ";
            return v.getBytes(StandardCharsets.US_ASCII);
        }

        private static byte[] u16(int v) {
            return ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) v).array();
        }
    }

    private static final java.util.function.IntBinaryOperator RAMP = (x, y) -> x * 40;

    @Test
    void decodesAnUncompressedMonochrome2Ramp() {
        byte[] dcm = new DicomWriter().write(RAMP);

        ImageInfo info = ImageProbe.probe(dcm, ImageLimits.defaults());
        GrayImage img = ImageDecoder.decode(dcm);

        assertThat(info.format()).isEqualTo(ImageFormat.DICOM);
        assertThat(info.width()).isEqualTo(96);
        assertThat(info.height()).isEqualTo(80);
        assertThat(img.get(0, 10)).isEqualTo(0f, org.assertj.core.data.Offset.offset(1e-4f));
        assertThat(img.get(95, 10)).isEqualTo(1f, org.assertj.core.data.Offset.offset(1e-4f));
        assertThat(img.get(40, 10)).isGreaterThan(img.get(20, 10));
    }

    @Test
    void invertsMonochrome1SoBoneIsBright() {
        DicomWriter w = new DicomWriter();
        w.photometric = "MONOCHROME1";
        GrayImage inverted = ImageDecoder.decode(w.write(RAMP));
        GrayImage normal = ImageDecoder.decode(new DicomWriter().write(RAMP));
        for (int x = 0; x < 96; x += 7) {
            assertThat(inverted.get(x, 5)).isEqualTo(1 - normal.get(x, 5), org.assertj.core.data.Offset.offset(1e-4f));
        }
    }

    @Test
    void appliesRescaleThenTheVoiWindow() {
        DicomWriter w = new DicomWriter();
        w.slope = "2";
        w.intercept = "-1000";
        // Stored x*40 -> rescaled 80x - 1000; window [0, 4000] maps x = 12.5..62.5 onto 0..1.
        w.windowCenter = "2000";
        w.windowWidth = "4000";
        GrayImage img = ImageDecoder.decode(w.write(RAMP));
        assertThat(img.get(10, 3)).isEqualTo(0f);
        assertThat(img.get(70, 3)).isEqualTo(1f);
        assertThat(img.get(40, 3)).isEqualTo((80f * 40 - 1000) / 4000f, org.assertj.core.data.Offset.offset(1e-3f));
    }

    @Test
    void readsImplicitVrLittleEndianToo() {
        DicomWriter w = new DicomWriter();
        w.syntax = DicomImage.IMPLICIT_LE;
        GrayImage img = ImageDecoder.decode(w.write(RAMP));
        assertThat(img.width()).isEqualTo(96);
        assertThat(img.get(95, 0)).isEqualTo(1f, org.assertj.core.data.Offset.offset(1e-4f));
    }

    private static void assertRejected(byte[] bytes, RejectReason reason) {
        assertThatThrownBy(() -> ImageDecoder.decode(bytes)).isInstanceOfSatisfying(InvalidImageException.class,
                e -> assertThat(e.code()).isEqualTo(reason));
    }

    @Test
    void rejectsLateralViewsFromTheHeader() {
        DicomWriter w = new DicomWriter();
        w.view = "LL";
        assertRejected(w.write(RAMP), RejectReason.LATERAL_VIEW);
    }

    @Test
    void rejectsAbsurdDeclaredSizesBeforeReadingPixels() {
        DicomWriter w = new DicomWriter();
        w.declaredRows = 65535;
        w.cols = 96;
        // 65535 x 96 is within the pixel limit but far more than the data holds: truncated, never allocated.
        assertRejected(w.write(RAMP), RejectReason.TRUNCATED_OR_CORRUPT);
        assertThatThrownBy(() -> ImageProbe.probe(w.write(RAMP), new ImageLimits(1 << 30, 1_000_000, 64)))
                .isInstanceOfSatisfying(InvalidImageException.class,
                        e -> assertThat(e.code()).isEqualTo(RejectReason.TOO_MANY_PIXELS));
    }

    @Test
    void rejectsTruncatedPixelDataCompressedSyntaxesAndTinyImages() {
        DicomWriter cut = new DicomWriter();
        cut.pixelBytesKept = 1000;
        assertRejected(cut.write(RAMP), RejectReason.TRUNCATED_OR_CORRUPT);

        DicomWriter jpeg = new DicomWriter();
        jpeg.syntax = "1.2.840.10008.1.2.4.50";
        assertRejected(jpeg.write(RAMP), RejectReason.UNSUPPORTED_FORMAT);

        DicomWriter tiny = new DicomWriter();
        tiny.rows = 10;
        tiny.cols = 10;
        assertRejected(tiny.write(RAMP), RejectReason.TOO_SMALL);

        byte[] headerOnly = Arrays.copyOf(new DicomWriter().write(RAMP), 150);
        assertRejected(headerOnly, RejectReason.TRUNCATED_OR_CORRUPT);
    }
}
