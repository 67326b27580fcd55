package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class TiffChecksTest {
    private static final ImageLimits LIMITS = new ImageLimits(1L << 20, 2_000_000, 1);
    private static final int LONG = 4;
    private static final int LONG8 = 16;

    @Test
    void aValidClassicTiffPassesBothChecks() {
        byte[] tiff = TestImages.encode(TestImages.gray16(TestImages.chestPhantom(70)), "tiff");
        assertThatCode(() -> TiffChecks.checkDeclarations(tiff, LIMITS)).doesNotThrowAnyException();
        assertThatCode(() -> TiffChecks.checkStrips(tiff)).doesNotThrowAnyException();
    }

    @Test
    void theHandMadeBigTiffIsAnImageTheReaderDecodes() {
        // Guards the builder below: the BigTIFF cases test the checks on a file the reader takes as valid.
        byte[] big = bigTiff(16, 8);
        assertThatCode(() -> TiffChecks.checkDeclarations(big, LIMITS)).doesNotThrowAnyException();
        assertThatCode(() -> TiffChecks.checkStrips(big)).doesNotThrowAnyException();
        GrayImage image = ImageDecoder.decode(big, LIMITS);
        assertThat(image.width()).isEqualTo(16);
        assertThat(image.height()).isEqualTo(8);
        assertThat(image.pixels()[17]).isCloseTo(17 / 255f, org.assertj.core.data.Offset.offset(1e-6f));
    }

    @Test
    void refusesAbsurdSamplesPerPixelBeforeTheReaderAllocatesThem() {
        byte[] classic = BadInputCorpus.tiffHeader(64, 64, new int[] {277, LONG, 843_992_320});
        assertRefused(() -> TiffChecks.checkDeclarations(classic, LIMITS), RejectReason.UNSUPPORTED_FORMAT,
                "843992320 samples per pixel");
        assertRefused(() -> ImageProbe.probe(classic, LIMITS), RejectReason.UNSUPPORTED_FORMAT, "samples per pixel");
        byte[] big = bigTiff(16, 8, new long[] {277, LONG8, 1L << 40});
        assertRefused(() -> ImageDecoder.decode(big, LIMITS), RejectReason.UNSUPPORTED_FORMAT, "1099511627776 samples");
        byte[] none = BadInputCorpus.tiffHeader(64, 64, new int[] {277, 3, 0});
        assertRefused(() -> TiffChecks.checkDeclarations(none, LIMITS), RejectReason.UNSUPPORTED_FORMAT,
                "0 samples per pixel");
    }

    @Test
    void acceptsUpToEightSamplesPerPixel() {
        byte[] eight = BadInputCorpus.tiffHeader(64, 64, new int[] {277, 3, TiffChecks.MAX_SAMPLES_PER_PIXEL});
        assertThatCode(() -> TiffChecks.checkDeclarations(eight, LIMITS)).doesNotThrowAnyException();
        byte[] nine = BadInputCorpus.tiffHeader(64, 64, new int[] {277, 3, TiffChecks.MAX_SAMPLES_PER_PIXEL + 1});
        assertRefused(() -> TiffChecks.checkDeclarations(nine, LIMITS), RejectReason.UNSUPPORTED_FORMAT, "at most 8");
    }

    @Test
    void refusesTilesLargerThanThePixelLimit() {
        byte[] tiles = BadInputCorpus.tiffHeader(64, 64, new int[] {322, LONG, 2048}, new int[] {323, LONG, 1024});
        assertRefused(() -> TiffChecks.checkDeclarations(tiles, LIMITS), RejectReason.TOO_MANY_PIXELS, "2048x1024");
        byte[] fits = BadInputCorpus.tiffHeader(64, 64, new int[] {322, LONG, 1024}, new int[] {323, LONG, 1024});
        assertThatCode(() -> TiffChecks.checkDeclarations(fits, LIMITS)).doesNotThrowAnyException();
    }

    @Test
    void readsTheFirstOfSeveralValuesWhereTheyAreStoredNotTheOffsetToThem() {
        // SamplesPerPixel as 2 LONGs: 8 bytes do not fit the entry, which holds their offset instead (here the
        // strip's); before the fix the offset itself was read as the value.
        byte[] tiff = BadInputCorpus.tiffHeader(64, 64);
        ByteBuffer b = ByteBuffer.wrap(tiff).order(ByteOrder.LITTLE_ENDIAN);
        int entry = samplesPerPixelEntry(tiff);
        int data = tiff.length - 64;
        b.putShort(entry + 2, (short) LONG).putInt(entry + 4, 2).putInt(entry + 8, data);
        b.putInt(data, 3); // the first value: 3 samples, allowed
        assertThatCode(() -> TiffChecks.checkDeclarations(tiff, LIMITS)).doesNotThrowAnyException();
        b.putInt(data, 9);
        assertRefused(() -> TiffChecks.checkDeclarations(tiff, LIMITS), RejectReason.UNSUPPORTED_FORMAT,
                "9 samples per pixel");
        b.putInt(entry + 4, -1); // 2^32 - 1 values
        assertRefused(() -> TiffChecks.checkDeclarations(tiff, LIMITS), RejectReason.TRUNCATED_OR_CORRUPT,
                "4294967295 values");
    }

    private static int samplesPerPixelEntry(byte[] classic) {
        ByteBuffer b = ByteBuffer.wrap(classic).order(ByteOrder.LITTLE_ENDIAN);
        int entries = b.getShort(8);
        for (int i = 0, at = 10; i < entries; i++, at += 12) {
            if (b.getShort(at) == 277) {
                return at;
            }
        }
        throw new AssertionError("no SamplesPerPixel entry");
    }

    @Test
    void oneTileSizeAloneCountsWithTheOtherTakenAsTheReaderTakesIt() {
        // TileWidth alone in a striped file: the reader reads tiles of TileWidth x RowsPerStrip (fuzzing: 1.3 billion
        // wide ran it out of memory allocating one row).
        byte[] wide = BadInputCorpus.tiffHeader(64, 64, new int[] {322, LONG, 1_291_911_168});
        assertRefused(() -> ImageDecoder.decode(wide, LIMITS), RejectReason.TOO_MANY_PIXELS, "1291911168x64");
        byte[] fitsWithStrips = BadInputCorpus.tiffHeader(64, 64, new int[] {322, LONG, 40_000},
                new int[] {278, LONG, 16});
        assertThatCode(() -> TiffChecks.checkDeclarations(fitsWithStrips, LIMITS)).doesNotThrowAnyException();
        byte[] tall = BadInputCorpus.tiffHeader(64, 64, new int[] {323, LONG, 40_000});
        assertRefused(() -> TiffChecks.checkDeclarations(tall, LIMITS), RejectReason.TOO_MANY_PIXELS, "64x40000");
        byte[] zero = BadInputCorpus.tiffHeader(64, 64, new int[] {322, LONG, 0});
        assertRefused(() -> TiffChecks.checkDeclarations(zero, LIMITS), RejectReason.TRUNCATED_OR_CORRUPT, "0x64");
        byte[] beyondLong = bigTiff(16, 8, new long[] {322, LONG8, 0x8000_0000_4000_0000L});
        assertRefused(() -> TiffChecks.checkDeclarations(beyondLong, LIMITS), RejectReason.TRUNCATED_OR_CORRUPT,
                "9223372037928517632x8");
    }

    @Test
    void aSizeTagOfANonIntegerTypeIsCorrupt() {
        byte[] rational = BadInputCorpus.tiffHeader(64, 64, new int[] {277, 5, 1}); // RATIONAL, 8 bytes at offset 1
        assertRefused(() -> TiffChecks.checkDeclarations(rational, LIMITS), RejectReason.TRUNCATED_OR_CORRUPT,
                "tag 277 has type 5");
    }

    @Test
    void refusesDirectoriesOutsideOrCutOff() {
        byte[] tiff = BadInputCorpus.tiffHeader(64, 64);
        byte[] outside = tiff.clone();
        ByteBuffer.wrap(outside).order(ByteOrder.LITTLE_ENDIAN).putInt(4, tiff.length - 1);
        assertRefused(() -> TiffChecks.checkDeclarations(outside, LIMITS), RejectReason.TRUNCATED_OR_CORRUPT,
                "outside the file");
        byte[] cut = Arrays.copyOf(tiff, 8 + 2 + 12 * 3);
        assertRefused(() -> TiffChecks.checkStrips(cut), RejectReason.TRUNCATED_OR_CORRUPT, "cut off");
        byte[] bigCut = Arrays.copyOf(bigTiff(16, 8), 40);
        assertRefused(() -> TiffChecks.checkDeclarations(bigCut, LIMITS), RejectReason.TRUNCATED_OR_CORRUPT, "cut off");
    }

    @Test
    void refusesStripsPastTheEndInClassicAndBigTiff() {
        byte[] classic = BadInputCorpus.tiffHeader(64, 64, new int[] {279, LONG, 65}); // one byte more than there is
        assertRefused(() -> TiffChecks.checkStrips(classic), RejectReason.TRUNCATED_OR_CORRUPT, "strip 0 ends at byte");
        byte[] big = bigTiff(16, 8, new long[] {279, LONG8, 16 * 8 + 1});
        assertRefused(() -> TiffChecks.checkStrips(big), RejectReason.TRUNCATED_OR_CORRUPT, "strip 0 ends at byte");
        byte[] wraps = bigTiff(16, 8, new long[] {279, LONG8, Long.MAX_VALUE});
        assertRefused(() -> TiffChecks.checkStrips(wraps), RejectReason.TRUNCATED_OR_CORRUPT, "file is truncated");
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, RejectReason reason,
                                      String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(InvalidImageException.class,
                e -> assertThat(e.code()).isEqualTo(reason)).hasMessageContaining(message);
    }

    /**
     * A little-endian BigTIFF: 8-bit gray, uncompressed, one strip whose pixel i is i mod 256; entries given as
     * {tag, type, value} (inline values only) replace or add to the defaults.
     */
    private static byte[] bigTiff(int width, int height, long[]... extra) {
        TreeMap<Long, long[]> tags = new TreeMap<>();
        int pixels = width * height;
        for (long[] e : new long[][] {
                {256, LONG, width}, {257, LONG, height}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1},
                {273, LONG8, 0}, {277, 3, 1}, {278, LONG, height}, {279, LONG8, pixels}}) {
            tags.put(e[0], e);
        }
        for (long[] e : extra) {
            tags.put(e[0], e);
        }
        int ifd = 16;
        int data = ifd + 8 + tags.size() * 20 + 8;
        ByteBuffer b = ByteBuffer.allocate(data + pixels).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'I').put((byte) 'I').putShort((short) 43).putShort((short) 8).putShort((short) 0).putLong(ifd);
        b.putLong(tags.size());
        for (long[] e : tags.values()) {
            int type = (int) e[1];
            long value = e[0] == 273 ? data : e[2];
            b.putShort((short) e[0]).putShort((short) type).putLong(1);
            int at = b.position();
            switch (type) {
                case 3 -> b.putShort((short) value);
                case LONG -> b.putInt((int) value);
                default -> b.putLong(value);
            }
            b.position(at + 8);
        }
        b.putLong(0);
        for (int i = 0; i < pixels; i++) {
            b.put((byte) i);
        }
        return b.array();
    }
}
