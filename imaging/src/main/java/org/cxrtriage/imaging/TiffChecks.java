package org.cxrtriage.imaging;

import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks of a TIFF's first directory (IFD 0) made on the raw bytes, where the ImageIO reader would otherwise trust
 * what the file declares. Classic TIFF and BigTIFF.
 *
 * <ul>
 *   <li>{@link #checkDeclarations} runs before the reader reads the header: the TwelveMonkeys reader allocates by
 *       declared values without bounds (an array of SamplesPerPixel entries while it only reads the header; a tile
 *       buffer while it decodes). A 242-byte file declaring 843 million samples per pixel made it throw an
 *       OutOfMemoryError, and so did a 400-byte one with a TileWidth of 1.3 billion (both found by fuzzing).</li>
 *   <li>{@link #checkStrips} stands in for the trailer TIFF lacks: every strip or tile must lie inside the file.</li>
 * </ul>
 */
final class TiffChecks {
    /** Most samples per pixel we read: gray, RGB, RGBA, CMYK and a few extras fit; spectral stacks do not. */
    static final int MAX_SAMPLES_PER_PIXEL = 8;
    /** Most strips (or tiles) one image may list before we stop checking them one by one. */
    private static final int MAX_CHECKED_SEGMENTS = 1 << 20;

    /** A tag not in the directory. A LONG8 of exactly 2^63 reads as this too; the reader cuts it to 0 and fails. */
    private static final long ABSENT = Long.MIN_VALUE;

    private TiffChecks() {
    }

    /**
     * @throws InvalidImageException UNSUPPORTED_FORMAT for more than {@value #MAX_SAMPLES_PER_PIXEL} samples per
     *                               pixel, TOO_MANY_PIXELS for a tile larger than the pixel limit, TRUNCATED_OR_CORRUPT
     *                               for a directory outside the file or a size tag of a non-integer type
     */
    static void checkDeclarations(byte[] bytes, ImageLimits limits) {
        Directory ifd = Directory.first(bytes);
        // The largest value of each tag (a tag may repeat), or ABSENT.
        long imageWidth = ABSENT;
        long imageLength = ABSENT;
        long rowsPerStrip = ABSENT;
        long tileWidth = ABSENT;
        long tileLength = ABSENT;
        for (int i = 0; i < ifd.entries(); i++) {
            switch (ifd.tag(i)) {
                case TIFF.TAG_SAMPLES_PER_PIXEL -> {
                    long samples = ifd.firstInteger(i);
                    if (samples < 1 || samples > MAX_SAMPLES_PER_PIXEL) {
                        throw new InvalidImageException(RejectReason.UNSUPPORTED_FORMAT, "TIFF declares " + samples
                                + " samples per pixel; at most " + MAX_SAMPLES_PER_PIXEL + " are read");
                    }
                }
                case TIFF.TAG_IMAGE_WIDTH -> imageWidth = Math.max(imageWidth, ifd.firstInteger(i));
                case TIFF.TAG_IMAGE_HEIGHT -> imageLength = Math.max(imageLength, ifd.firstInteger(i));
                case TIFF.TAG_ROWS_PER_STRIP -> rowsPerStrip = Math.max(rowsPerStrip, ifd.firstInteger(i));
                case TIFF.TAG_TILE_WIDTH -> tileWidth = Math.max(tileWidth, ifd.firstInteger(i));
                case TIFF.TAG_TILE_HEIGTH -> tileLength = Math.max(tileLength, ifd.firstInteger(i));
                default -> { }
            }
        }
        if (tileWidth == ABSENT && tileLength == ABSENT) {
            return; // strips: as wide as the image, at most as high, which the header's pixel check bounds
        }
        // The reader takes either tile size even in a striped file, the other from the image (width) or the strips
        // (height), and allocates a tile, or a row of one, by it: a 1.3-billion-pixel TileWidth alone ran it out of
        // memory (found by fuzzing).
        long width = tileWidth != ABSENT ? tileWidth : Math.max(imageWidth, 1);
        long height = tileLength != ABSENT ? tileLength
                : Math.max(1, Math.min(rowsPerStrip >= 0 ? rowsPerStrip : Long.MAX_VALUE, imageLength));
        if (width <= 0 || height <= 0) { // also a LONG8 beyond 2^63, which the reader would cut to an int
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "TIFF tiles of "
                    + Long.toUnsignedString(width) + "x" + Long.toUnsignedString(height));
        }
        long max = limits.maxPixels();
        // Each side at most the limit before multiplying, so the product of two LONG8 values cannot overflow.
        if (width > max || height > max || width * height > max) {
            throw new InvalidImageException(RejectReason.TOO_MANY_PIXELS, "TIFF tiles of " + width + "x" + height
                    + " exceed the limit of " + max + " pixels");
        }
    }

    /**
     * TIFF has no trailer; its first IFD lists where each strip (or tile) of image 0 starts and how long it is. A file
     * cut short loses the last strips, and readers only notice when they decode them.
     *
     * @throws InvalidImageException TRUNCATED_OR_CORRUPT when a strip, a tile or the tables listing them lie past the
     *                               end of the file
     */
    static void checkStrips(byte[] bytes) {
        Directory ifd = Directory.first(bytes);
        long[][] offsets = new long[2][];
        long[][] counts = new long[2][];
        for (int i = 0; i < ifd.entries(); i++) {
            int tag = ifd.tag(i);
            int kind = switch (tag) {
                case TIFF.TAG_STRIP_OFFSETS, TIFF.TAG_STRIP_BYTE_COUNTS -> 0;
                case TIFF.TAG_TILE_OFFSETS, TIFF.TAG_TILE_BYTE_COUNTS -> 1;
                default -> -1;
            };
            if (kind < 0) {
                continue;
            }
            long[] values = ifd.unsignedValues(i);
            if (tag == TIFF.TAG_STRIP_OFFSETS || tag == TIFF.TAG_TILE_OFFSETS) {
                offsets[kind] = values;
            } else {
                counts[kind] = values;
            }
        }
        for (int kind = 0; kind < 2; kind++) {
            if (offsets[kind] == null || counts[kind] == null) {
                continue;
            }
            int n = Math.min(offsets[kind].length, counts[kind].length);
            for (int i = 0; i < n; i++) {
                long end = offsets[kind][i] + counts[kind][i];
                if (end > bytes.length || end < 0) {
                    throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "TIFF "
                            + (kind == 0 ? "strip " : "tile ") + i + " ends at byte " + Long.toUnsignedString(end)
                            + " but the file has " + bytes.length + ": file is truncated");
                }
            }
        }
    }

    /** Tags whose BYTE/UNDEFINED values are metadata blobs: XMP, IPTC, Photoshop, Exif MakerNote and UserComment. */
    private static final java.util.Set<Integer> METADATA_BLOBS = java.util.Set.of(700, 33723, 34377, 37500, 37510);
    /** Most image directories cleaned, following each one's pointer to the next (a loop ends here too). */
    private static final int MAX_CLEANED_DIRECTORIES = 64;
    /** Tags pointing to directories of descriptive metadata: Exif, GPS, Interoperability. */
    private static final java.util.Set<Integer> METADATA_DIRECTORIES = java.util.Set.of(34665, 34853, 40965);

    /**
     * A copy of the TIFF with every text value and metadata blob zeroed in place (image description, artist, document
     * name, dates, Exif, GPS, XMP, IPTC...), the structure and the pixels untouched: a reader sees empty strings.
     * Only bytes {@link ImageFormat#detect} found to be TIFF, and that passed {@link #checkDeclarations}.
     *
     * @throws InvalidImageException TRUNCATED_OR_CORRUPT for a text value that cannot be zeroed without touching
     *                               what a decoder reads (or with the pixel data's place not stated)
     */
    static byte[] withoutDescriptiveValues(byte[] original) {
        byte[] bytes = original.clone();
        List<long[]> blank = new ArrayList<>();
        List<long[]> keep = new ArrayList<>();
        List<long[]> directories = new ArrayList<>();
        Directory first = Directory.first(bytes);
        keep.add(new long[] {0, first.big ? 16 : 8}); // the header
        collect(first, bytes, 0, blank, keep, directories);
        // The images after the first (thumbnails, pages) carry tags of their own.
        Directory ifd = first;
        for (int n = 1; n < MAX_CLEANED_DIRECTORIES; n++) {
            long next = ifd.next();
            if (next == 0) {
                break;
            }
            try {
                ifd = Directory.at(bytes, next);
            } catch (InvalidImageException unreadable) {
                break; // no reader finds a directory there either
            }
            collect(ifd, bytes, 0, blank, keep, directories);
        }
        // A value that shares bytes with anything a decoder reads (a damaged or crafted file) cannot be zeroed: the
        // published image must decode exactly as the upload did. Such a file is refused unless the value is empty.
        // A value held inside its own directory entry (an inline one, {from, to, its directory's start}) lies in
        // that directory by definition, but not in another's, nor in pixel data: fuzzing found a file whose only
        // strip, of unstated length, began inside the directory.
        for (long[] b : blank) {
            boolean inline = b.length == 3;
            boolean shared = keep.stream().anyMatch(k -> overlap(b, k))
                    || directories.stream().anyMatch(d -> overlap(b, d) && !(inline && d[0] == b[2]));
            if (!shared) {
                java.util.Arrays.fill(bytes, (int) b[0], (int) b[1], (byte) 0);
            } else if (!allZero(bytes, b[0], b[1])) { // text a decoder may also read as something else: refused
                throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "the TIFF's text value at byte "
                        + b[0] + " shares bytes with what a decoder reads (or the pixel data's place is not stated): "
                        + "it cannot be removed; export the image again");
            }
        }
        return bytes;
    }

    private static boolean allZero(byte[] bytes, long from, long to) {
        for (long i = from; i < to; i++) {
            if (bytes[(int) i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean overlap(long[] a, long[] b) {
        return a[0] < b[1] && b[0] < a[1];
    }

    /** Sorts a directory's byte ranges into values to blank and everything else a reader may need. */
    private static void collect(Directory ifd, byte[] bytes, int depth, List<long[]> blank, List<long[]> keep,
                                List<long[]> directories) {
        long[] region = ifd.region();
        directories.add(region);
        for (int i = 0; i < ifd.entries(); i++) {
            int type = ifd.type(i);
            int tag = ifd.tag(i);
            long[] values = ifd.valueRange(i);
            if (values == null) {
                continue; // a type of unknown size or values outside the file: nothing to read there
            }
            boolean blob = METADATA_BLOBS.contains(tag) && (type == TIFF.TYPE_UNDEFINED || type == TIFF.TYPE_BYTE);
            if (type == TIFF.TYPE_ASCII || blob) {
                blank.add(ifd.isInline(i, values) ? new long[] {values[0], values[1], region[0]} : values);
            } else {
                keep.add(values);
            }
            if (tag == TIFF.TAG_STRIP_OFFSETS || tag == TIFF.TAG_TILE_OFFSETS || tag == 513) { // 513: old JPEG
                keepData(ifd, i, tag, keep);
            }
            if (METADATA_DIRECTORIES.contains(tag) && depth < 2) {
                try {
                    collect(Directory.at(bytes, ifd.firstOffset(i)), bytes, depth + 1, blank, keep, directories);
                } catch (InvalidImageException unreadable) {
                    // A metadata directory no reader can find holds nothing anyone reads: left as it is.
                }
            }
        }
    }

    /** The pixel data an offsets entry points to, with the byte counts of its partner tag. */
    private static void keepData(Directory ifd, int offsetsEntry, int tag, List<long[]> keep) {
        int countsTag = tag == TIFF.TAG_STRIP_OFFSETS ? TIFF.TAG_STRIP_BYTE_COUNTS
                : tag == TIFF.TAG_TILE_OFFSETS ? TIFF.TAG_TILE_BYTE_COUNTS : 514;
        long[] offsets;
        long[] counts = null;
        try {
            offsets = ifd.unsignedValues(offsetsEntry);
            for (int j = 0; j < ifd.entries(); j++) {
                if (ifd.tag(j) == countsTag) {
                    counts = ifd.unsignedValues(j);
                }
            }
        } catch (InvalidImageException unreadable) {
            offsets = null;
        }
        if (offsets == null || counts == null) {
            keep.add(new long[] {0, Long.MAX_VALUE}); // where the pixels are is unclear: touch nothing
            return;
        }
        for (int k = 0; k < Math.min(offsets.length, counts.length); k++) {
            keep.add(new long[] {offsets[k], offsets[k] + counts[k]});
        }
    }

    /** The entries of IFD 0, read in place: classic TIFF (12-byte entries) or BigTIFF (20-byte entries). */
    private static final class Directory {
        private final byte[] bytes;
        private final ByteBuffer buf;
        private final boolean big;
        private final long start;
        private final int entries;

        private Directory(byte[] bytes, ByteBuffer buf, boolean big, long start, int entries) {
            this.bytes = bytes;
            this.buf = buf;
            this.big = big;
            this.start = start;
            this.entries = entries;
        }

        /** Only called on bytes {@link ImageFormat#detect} found to be TIFF, so the 4-byte signature is there. */
        static Directory first(byte[] bytes) {
            boolean big = bytes[2] == 43 || bytes[3] == 43;
            if (bytes.length < (big ? 16 : 8)) {
                throw corrupt("TIFF header is cut off");
            }
            ByteOrder order = bytes[0] == 'I' ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
            ByteBuffer buf = ByteBuffer.wrap(bytes).order(order);
            return at(bytes, big ? buf.getLong(8) : buf.getInt(4) & 0xFFFFFFFFL);
        }

        /** The directory at byte {@code ifd} of a TIFF. */
        static Directory at(byte[] bytes, long ifd) {
            boolean big = bytes[2] == 43 || bytes[3] == 43;
            ByteOrder order = bytes[0] == 'I' ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
            ByteBuffer buf = ByteBuffer.wrap(bytes).order(order);
            int headerLength = big ? 16 : 8;
            int countLength = big ? 8 : 2;
            if (ifd < headerLength || ifd > bytes.length - countLength) {
                throw corrupt("TIFF directory lies outside the file");
            }
            long declared = big ? buf.getLong((int) ifd) : buf.getShort((int) ifd) & 0xFFFF;
            long entryLength = big ? 20 : 12;
            long first = ifd + countLength;
            if (declared < 0 || declared > (bytes.length - first) / entryLength) {
                throw corrupt("TIFF directory is cut off");
            }
            return new Directory(bytes, buf, big, first, (int) declared);
        }

        int entries() {
            return entries;
        }

        private int at(int entry) {
            return (int) (start + (long) entry * (big ? 20 : 12));
        }

        int tag(int entry) {
            return buf.getShort(at(entry)) & 0xFFFF;
        }

        private int type(int entry) {
            return buf.getShort(at(entry) + 2) & 0xFFFF;
        }

        private long count(int entry) {
            return big ? buf.getLong(at(entry) + 4) : buf.getInt(at(entry) + 4) & 0xFFFFFFFFL;
        }

        /** Whether these values are the entry's own value field (they fit in it). */
        boolean isInline(int entry, long[] values) {
            int field = at(entry) + (big ? 12 : 8);
            return values[0] == field && values[1] <= field + (big ? 8 : 4);
        }

        /** Where the next directory starts (0: none). */
        long next() {
            long at = start + (long) entries * (big ? 20 : 12);
            if (at + (big ? 8 : 4) > bytes.length) {
                return 0; // the pointer is cut off: no reader goes further either
            }
            return big ? buf.getLong((int) at) : buf.getInt((int) at) & 0xFFFFFFFFL;
        }

        /** The bytes of the directory itself: its entry count, entries and next-directory pointer. */
        long[] region() {
            return new long[] {start - (big ? 8 : 2), start + (long) entries * (big ? 20 : 12) + (big ? 8 : 4)};
        }

        /** Where an entry's values lie (inline, or at its offset); null for an unknown type or a bad one. */
        long[] valueRange(int entry) {
            int size = typeSize(type(entry));
            if (size == 0) {
                return null;
            }
            long count = count(entry);
            try {
                long first = valuesAt(entry, count, size);
                return new long[] {first, first + count * size};
            } catch (InvalidImageException outside) {
                return null;
            }
        }

        private static int typeSize(int type) {
            return switch (type) {
                case TIFF.TYPE_BYTE, TIFF.TYPE_ASCII, TIFF.TYPE_SBYTE, TIFF.TYPE_UNDEFINED -> 1;
                case TIFF.TYPE_SHORT, TIFF.TYPE_SSHORT -> 2;
                case TIFF.TYPE_LONG, TIFF.TYPE_SLONG, TIFF.TYPE_FLOAT, TIFF.TYPE_IFD -> 4;
                case TIFF.TYPE_RATIONAL, TIFF.TYPE_SRATIONAL, TIFF.TYPE_DOUBLE, TIFF.TYPE_LONG8, TIFF.TYPE_SLONG8,
                     TIFF.TYPE_IFD8 -> 8;
                default -> 0;
            };
        }

        /** The offset a directory-pointer entry holds (type LONG or IFD, or their BigTIFF forms). */
        long firstOffset(int entry) {
            int type = type(entry);
            int size = type == TIFF.TYPE_IFD ? 4 : type == TIFF.TYPE_IFD8 ? 8 : integerSize(type);
            long count = count(entry);
            if (size < 4 || count == 0) {
                throw corrupt("TIFF tag " + tag(entry) + " has type " + type
                        + "; a directory offset needs LONG or IFD");
            }
            return read(valuesAt(entry, count, size), size == 8 ? TIFF.TYPE_LONG8 : TIFF.TYPE_LONG);
        }

        /** Bytes of one value of an integer type, or 0 for any other type. */
        private static int integerSize(int type) {
            return switch (type) {
                case TIFF.TYPE_BYTE, TIFF.TYPE_SBYTE -> 1;
                case TIFF.TYPE_SHORT, TIFF.TYPE_SSHORT -> 2;
                case TIFF.TYPE_LONG, TIFF.TYPE_SLONG -> 4;
                case TIFF.TYPE_LONG8, TIFF.TYPE_SLONG8 -> 8; // BigTIFF
                default -> 0;
            };
        }

        /** Where the entry's values start: inline in the entry when they fit, else at the offset it holds. */
        private long valuesAt(int entry, long count, int size) {
            int inline = big ? 8 : 4;
            int field = at(entry) + (big ? 12 : 8);
            if (count < 0 || count > bytes.length) { // also keeps count * size below 2^34
                throw corrupt("TIFF tag " + tag(entry) + " declares " + Long.toUnsignedString(count) + " values");
            }
            long offset = count * size <= inline ? field : big ? buf.getLong(field) : buf.getInt(field) & 0xFFFFFFFFL;
            if (offset < 0 || offset > bytes.length || count * size > bytes.length - offset) {
                throw corrupt("TIFF tag " + tag(entry) + " has its values past the end of the file");
            }
            return offset;
        }

        private long read(long at, int type) {
            int i = (int) at;
            return switch (type) {
                case TIFF.TYPE_BYTE -> bytes[i] & 0xFF;
                case TIFF.TYPE_SBYTE -> bytes[i];
                case TIFF.TYPE_SHORT -> buf.getShort(i) & 0xFFFF;
                case TIFF.TYPE_SSHORT -> buf.getShort(i);
                case TIFF.TYPE_LONG -> buf.getInt(i) & 0xFFFFFFFFL;
                case TIFF.TYPE_SLONG -> buf.getInt(i);
                default -> buf.getLong(i); // LONG8 beyond 2^63 reads negative, which every check refuses
            };
        }

        /** The first value of a size tag (as the reader takes it). */
        long firstInteger(int entry) {
            int type = type(entry);
            int size = integerSize(type);
            long count = count(entry);
            if (size == 0 || count == 0) {
                throw corrupt("TIFF tag " + tag(entry) + " has type " + type + " or no value; a size needs an integer");
            }
            return read(valuesAt(entry, count, size), type); // where all values are: inline only if all fit
        }

        /** All values of an offset or byte-count tag; null for a type that cannot hold one (the reader decides). */
        long[] unsignedValues(int entry) {
            int type = type(entry);
            long count = count(entry);
            boolean unsigned = type == TIFF.TYPE_SHORT || type == TIFF.TYPE_LONG || type == TIFF.TYPE_LONG8;
            if (!unsigned || count == 0) {
                return null;
            }
            if (count > MAX_CHECKED_SEGMENTS) {
                throw corrupt("TIFF lists " + count + " strips or tiles");
            }
            int size = integerSize(type);
            long first = valuesAt(entry, count, size);
            long[] out = new long[(int) count];
            for (int i = 0; i < out.length; i++) {
                out[i] = read(first + (long) i * size, type);
            }
            return out;
        }

        private static InvalidImageException corrupt(String message) {
            return new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, message);
        }
    }
}
