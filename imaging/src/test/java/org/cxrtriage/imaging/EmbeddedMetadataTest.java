package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/** Identifiers written into an image file's metadata do not survive; the pixels do, exactly. */
class EmbeddedMetadataTest {

    private static final String NAME = "DOE^JOHN";
    private static final String MRN = "MRN-12345678";
    private static final GrayImage IMAGE = TestImages.chestPhantom(96);

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] slice(byte[] b, int from, int to) {
        return java.util.Arrays.copyOfRange(b, from, to);
    }

    private static byte[] pngChunk(String type, String text) {
        byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
        byte[] d = text.getBytes(StandardCharsets.ISO_8859_1);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(d);
        return ByteBuffer.allocate(12 + d.length).putInt(d.length).put(t).put(d).putInt((int) crc.getValue()).array();
    }

    private static void assertSamePixels(byte[] original, byte[] stripped) {
        GrayImage a = ImageDecoder.decode(original);
        GrayImage b = ImageDecoder.decode(stripped);
        assertThat(b.width()).isEqualTo(a.width());
        assertThat(b.height()).isEqualTo(a.height());
        assertThat(b.pixels()).containsExactly(a.pixels());
    }

    @Test
    void pngChunksThatDoNotDescribePixelsAreBlanked() {
        byte[] plain = TestImages.encode(TestImages.gray16(IMAGE), "png");
        int afterIhdr = 8 + 25;
        byte[] tagged = concat(slice(plain, 0, afterIhdr), pngChunk("tEXt", "Patient\0" + NAME + " " + MRN),
                pngChunk("prVt", "accession ACC998877"), slice(plain, afterIhdr, plain.length),
                ("trailing " + MRN).getBytes(StandardCharsets.ISO_8859_1));

        byte[] stripped = EmbeddedMetadata.strip(ImageFormat.PNG, tagged);

        assertThat(latin1(stripped)).doesNotContain(NAME).doesNotContain(MRN).doesNotContain("ACC998877")
                .doesNotContain("tEXt").contains(EmbeddedMetadata.BLANK_CHUNK);
        assertThat(stripped).as("in place, cut after IEND").hasSize(tagged.length - ("trailing " + MRN).length());
        assertSamePixels(plain, stripped);
        assertThat(EmbeddedMetadata.strip(ImageFormat.PNG, plain)).as("nothing to remove").isEqualTo(plain);
    }

    @Test
    void jpegCommentsAndExifAreBlankedButWhatDecodingNeedsStays() {
        byte[] plain = TestImages.encode(TestImages.gray8(IMAGE), "jpeg");
        byte[] commentText = (NAME + " " + MRN).getBytes(StandardCharsets.ISO_8859_1);
        byte[] comment = concat(new byte[] {(byte) 0xFF, (byte) 0xFE, 0, (byte) (2 + commentText.length)},
                commentText);
        byte[] exifText = ("Exif\0\0" + NAME).getBytes(StandardCharsets.ISO_8859_1);
        byte[] exif = concat(new byte[] {(byte) 0xFF, (byte) 0xE1, 0, (byte) (2 + exifText.length)}, exifText);
        byte[] tagged = concat(slice(plain, 0, 2), comment, exif, slice(plain, 2, plain.length));

        byte[] stripped = EmbeddedMetadata.strip(ImageFormat.JPEG, tagged);

        assertThat(latin1(stripped)).doesNotContain(NAME).doesNotContain(MRN);
        assertThat(stripped).as("blanked in place").hasSameSizeAs(tagged);
        assertSamePixels(plain, stripped);
        assertThat(EmbeddedMetadata.strip(ImageFormat.JPEG, plain)).as("nothing to remove").isEqualTo(plain);
    }

    /**
     * Metadata past a break in the file's structure cannot be found, so the file is refused rather than published with
     * it (before, it went on as it was, even when the stream then could not decode it).
     */
    @Test
    void aFileWhoseStructureBreaksBeforeItsEndIsRefusedNotPublishedWithItsMetadata() {
        byte[] png = TestImages.encode(TestImages.gray16(IMAGE), "png");
        int afterIhdr = 8 + 25;
        byte[] overlong = pngChunk("prVt", "x");
        overlong[0] = (byte) 0x7F; // claims about 2 GB, more than the file holds
        byte[] brokenPng = concat(slice(png, 0, afterIhdr), overlong, pngChunk("tEXt", "Patient\0" + NAME),
                slice(png, afterIhdr, png.length));
        assertThatThrownBy(() -> EmbeddedMetadata.strip(ImageFormat.PNG, brokenPng))
                .isInstanceOfSatisfying(InvalidImageException.class,
                        e -> assertThat(e.code()).isEqualTo(RejectReason.TRUNCATED_OR_CORRUPT))
                .hasMessageContaining("breaks at byte " + afterIhdr).hasMessageNotContaining(NAME);

        byte[] jpeg = TestImages.encode(TestImages.gray8(IMAGE), "jpeg");
        byte[] commentText = (NAME + " " + MRN).getBytes(StandardCharsets.ISO_8859_1);
        byte[] comment = concat(new byte[] {(byte) 0xFF, (byte) 0xFE, 0, (byte) (2 + commentText.length)},
                commentText);
        byte[] junkThenComment = concat(slice(jpeg, 0, 2), new byte[] {0x12, 0x34}, comment, slice(jpeg, 2, jpeg.length));
        assertThatThrownBy(() -> EmbeddedMetadata.strip(ImageFormat.JPEG, junkThenComment))
                .isInstanceOfSatisfying(InvalidImageException.class,
                        e -> assertThat(e.code()).isEqualTo(RejectReason.TRUNCATED_OR_CORRUPT))
                .hasMessageContaining("JPEG").hasMessageContaining("breaks at byte 2").hasMessageNotContaining(NAME);
    }

    /**
     * Blanking must not turn a file one decoder refuses into one it reads: a critical chunk no decoder knows (libpng
     * refuses it, a lenient reader skips it) would become an ancillary one, and the published image could decode by
     * another route than the upload (found by fuzzing). Nor may the walk end without the end marker, which the old
     * code then appended when the only "IEND" or FF D9 bytes had been inside a blanked chunk or comment.
     */
    @Test
    void anUnknownCriticalChunkOrAWalkThatEndsWithoutTheEndMarkerIsRefused() {
        byte[] png = TestImages.encode(TestImages.gray8(IMAGE), "png");
        int iend = png.length - 12;
        byte[] unknownCritical = concat(slice(png, 0, iend), pngChunk("IIEN", ""), slice(png, iend, png.length));
        assertThatThrownBy(() -> EmbeddedMetadata.strip(ImageFormat.PNG, unknownCritical))
                .isInstanceOfSatisfying(InvalidImageException.class,
                        e -> assertThat(e.code()).isEqualTo(RejectReason.TRUNCATED_OR_CORRUPT))
                .hasMessageContaining("breaks at byte " + iend).hasMessageContaining("unknown critical chunk IIEN");

        byte[] iendOnlyInText = concat(slice(png, 0, iend), pngChunk("tEXt", "Comment\0" + MRN + " IEND"));
        assertThatThrownBy(() -> EmbeddedMetadata.strip(ImageFormat.PNG, iendOnlyInText))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("without IEND")
                .hasMessageNotContaining(MRN);

        byte[] jpeg = TestImages.encode(TestImages.gray8(IMAGE), "jpeg");
        byte[] commentText = (MRN + " \u00FF\u00D9").getBytes(StandardCharsets.ISO_8859_1);
        byte[] eoiOnlyInComment = concat(slice(jpeg, 0, jpeg.length - 2),
                new byte[] {(byte) 0xFF, (byte) 0xFE, 0, (byte) (2 + commentText.length)}, commentText);
        assertThatThrownBy(() -> EmbeddedMetadata.strip(ImageFormat.JPEG, eoiOnlyInComment))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("without the end-of-image marker")
                .hasMessageNotContaining(MRN);
    }

    /** After a JPEG's end marker, padding is fine and anything else (a trailer, a second image) is refused. */
    @Test
    void aJpegWithBytesAfterItsEndIsRefusedButPaddingAndMarkersWithoutLengthAreFine() {
        byte[] jpeg = TestImages.encode(TestImages.gray8(IMAGE), "jpeg");
        byte[] trailer = concat(jpeg, ("Exif\0\0" + NAME).getBytes(StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> EmbeddedMetadata.strip(ImageFormat.JPEG, trailer))
                .isInstanceOfSatisfying(InvalidImageException.class,
                        e -> assertThat(e.code()).isEqualTo(RejectReason.TRUNCATED_OR_CORRUPT))
                .hasMessageContaining("after the end-of-image marker").hasMessageNotContaining(NAME);

        byte[] padded = concat(jpeg, new byte[] {0, 0, (byte) 0xFF, 0});
        assertThat(EmbeddedMetadata.strip(ImageFormat.JPEG, padded)).isEqualTo(padded);
        byte[] withTem = concat(slice(jpeg, 0, 2), new byte[] {(byte) 0xFF, 0x01}, slice(jpeg, 2, jpeg.length));
        assertThat(EmbeddedMetadata.strip(ImageFormat.JPEG, withTem)).as("TEM has no length").isEqualTo(withTem);
    }

    /**
     * A TIFF that does not say where its pixel data ends (no StripByteCounts): any text value might be read as pixels,
     * so none can be zeroed, and the file is refused rather than published with them.
     */
    @Test
    void aTiffWhoseTextCannotBeZeroedWithoutTouchingThePixelsIsRefused() {
        byte[] tiff = taggedTiff();
        int stripByteCounts = 8 + 2 + 9 * 12; // the tenth entry of the first directory
        assertThat(ByteBuffer.wrap(tiff).order(ByteOrder.LITTLE_ENDIAN).getShort(stripByteCounts)).isEqualTo((short) 279);
        tiff[stripByteCounts] = (byte) 0xE8; // tag 65000: unknown to readers
        tiff[stripByteCounts + 1] = (byte) 0xFD;
        assertThatThrownBy(() -> EmbeddedMetadata.strip(ImageFormat.TIFF, tiff))
                .isInstanceOfSatisfying(InvalidImageException.class,
                        e -> assertThat(e.code()).isEqualTo(RejectReason.TRUNCATED_OR_CORRUPT))
                .hasMessageContaining("TIFF").hasMessageNotContaining(NAME);
    }

    @Test
    void tiffTextAndExifValuesAreZeroedInPlace() {
        byte[] tagged = taggedTiff();

        byte[] stripped = EmbeddedMetadata.strip(ImageFormat.TIFF, tagged);

        assertThat(latin1(stripped)).doesNotContain(NAME).doesNotContain(MRN).doesNotContain("2020:03:01")
                .as("the inline Artist").doesNotContain("JDO");
        assertThat(stripped).hasSameSizeAs(tagged);
        assertSamePixels(tagged, stripped);
    }

    @Test
    void theTextOfASecondImageDirectoryIsZeroedToo() {
        byte[] tagged = taggedTiff();
        // A second directory after the data (as a thumbnail's or a second page's), with an ImageDescription.
        byte[] text = ("THUMB " + MRN + "\0").getBytes(StandardCharsets.ISO_8859_1);
        int second = tagged.length;
        ByteBuffer b = ByteBuffer.allocate(second + 2 + 12 + 4 + text.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(tagged);
        b.putShort((short) 1).putShort((short) 270).putShort((short) 2).putInt(text.length).putInt(second + 18);
        b.putInt(0);
        b.put(text);
        byte[] twoDirectories = b.array();
        int ifd0Entries = ByteBuffer.wrap(twoDirectories, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
        ByteBuffer.wrap(twoDirectories).order(ByteOrder.LITTLE_ENDIAN).putInt(8 + 2 + ifd0Entries * 12, second);

        byte[] stripped = EmbeddedMetadata.strip(ImageFormat.TIFF, twoDirectories);

        assertThat(latin1(twoDirectories)).contains("THUMB");
        assertThat(latin1(stripped)).doesNotContain("THUMB").doesNotContain(MRN);
        assertSamePixels(twoDirectories, stripped);
    }

    /**
     * A little-endian 64×64 8-bit gray TIFF with an ImageDescription (outside the entry), an Artist short enough to
     * sit inline, and an Exif directory holding DateTimeOriginal.
     */
    private static byte[] taggedTiff() {
        int side = 64;
        byte[] description = (NAME + " " + MRN + "\0").getBytes(StandardCharsets.ISO_8859_1);
        byte[] date = "2020:03:01 10:15:00\0".getBytes(StandardCharsets.ISO_8859_1);
        int[][] entries = {
                {256, 4, 1, side}, {257, 4, 1, side}, {258, 3, 1, 8}, {259, 3, 1, 1}, {262, 3, 1, 1},
                {270, 2, description.length, -1}, {273, 4, 1, -2}, {277, 3, 1, 1}, {278, 4, 1, side},
                {279, 4, 1, side * side}, {315, 2, 4, -3}, {34665, 4, 1, -4}};
        int ifd = 8;
        int ifdLength = 2 + entries.length * 12 + 4;
        int exifIfd = ifd + ifdLength;
        int exifLength = 2 + 12 + 4;
        int descriptionAt = exifIfd + exifLength;
        int dateAt = descriptionAt + description.length;
        int pixelsAt = dateAt + date.length;
        ByteBuffer b = ByteBuffer.allocate(pixelsAt + side * side).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(ifd);
        b.putShort((short) entries.length);
        for (int[] e : entries) {
            b.putShort((short) e[0]).putShort((short) e[1]).putInt(e[2]);
            switch (e[3]) {
                case -1 -> b.putInt(descriptionAt);
                case -2 -> b.putInt(pixelsAt);
                case -3 -> b.put((byte) 'J').put((byte) 'D').put((byte) 'O').put((byte) 0); // Artist "JDO", inline
                case -4 -> b.putInt(exifIfd);
                default -> {
                    if (e[1] == 3) {
                        b.putShort((short) e[3]).putShort((short) 0);
                    } else {
                        b.putInt(e[3]);
                    }
                }
            }
        }
        b.putInt(0);
        b.putShort((short) 1).putShort((short) 36867).putShort((short) 2).putInt(date.length).putInt(dateAt);
        b.putInt(0);
        b.put(description).put(date);
        for (int i = 0; i < side * side; i++) {
            b.put((byte) (i * 7));
        }
        return b.array();
    }
}
