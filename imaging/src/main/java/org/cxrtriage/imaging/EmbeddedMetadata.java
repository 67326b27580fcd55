package org.cxrtriage.imaging;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Removes what an image file says besides its pixels, before it goes any further than ingest: exports from PACS and
 * DICOM converters write the patient's name, id, birth date and accession number into PNG text chunks, JPEG
 * comments and Exif, and TIFF tags. (DICOM has its own de-identification: {@link DicomDeidentifier}.)
 * <ul>
 *   <li>PNG: every chunk but those that describe pixels (IHDR, PLTE, IDAT, IEND, tRNS, gAMA, cHRM, sRGB, sBIT,
 *       pHYs) is blanked in place: text, Exif, time, ICC profiles (named) and unknown chunks.</li>
 *   <li>JPEG: comments and application segments are zeroed in place, except JFIF (APP0), the ICC profile (APP2)
 *       and Adobe's colour transform (APP14), which decoding needs. After the end-of-image marker only padding
 *       (0x00, 0xFF) is taken: anything else (a second image, a vendor trailer) could carry metadata, and a decoder
 *       may read on past an early marker (found by fuzzing), so such a file is refused.</li>
 *   <li>TIFF: every text value and metadata blob is zeroed in place (Exif and GPS directories included).</li>
 * </ul>
 * A file whose structure cannot be followed to its end marker (a PNG chunk that claims more bytes than follow, a
 * critical chunk that no decoder knows, a JPEG stream with something that is not a segment where one must start, no
 * end marker at the end of the walk) is refused (TRUNCATED_OR_CORRUPT): what lies past the break could hold metadata
 * that cannot be found, and changing bytes a decoder may read there could change the picture.
 */
public final class EmbeddedMetadata {

    private static final Set<String> PNG_PIXEL_CHUNKS = Set.of("IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM",
            "sRGB", "sBIT", "pHYs");

    /** A private, ancillary, safe-to-copy chunk type: what a blanked PNG chunk becomes. */
    static final String BLANK_CHUNK = "cxRz";

    private EmbeddedMetadata() {
    }

    /**
     * The image without its embedded metadata; other formats (DICOM) are returned as they are.
     *
     * @throws InvalidImageException TRUNCATED_OR_CORRUPT when the structure breaks before the end marker
     */
    public static byte[] strip(ImageFormat format, byte[] bytes) {
        return switch (format) {
            case PNG -> png(bytes);
            case JPEG -> jpeg(bytes);
            case TIFF -> TiffChecks.withoutDescriptiveValues(bytes);
            default -> bytes;
        };
    }

    /**
     * PNG metadata is blanked in place: a chunk that does not describe pixels keeps its place and length but becomes
     * a private ancillary chunk ({@value #BLANK_CHUNK}, which every decoder skips) of zeros with a valid CRC. Cutting
     * chunks out could join IDAT chunks that a damaged file had apart, and decode differently from the upload.
     * Bytes after IEND go.
     */
    static byte[] png(byte[] b) {
        byte[] out = b.clone();
        int pos = 8;
        while (pos + 12 <= b.length) {
            long length = u32(b, pos);
            if (length > b.length - pos - 12L) {
                throw damaged("PNG", pos, "a chunk claims " + length + " bytes, more than follow");
            }
            int total = (int) length + 12;
            String type = new String(b, pos + 4, 4, StandardCharsets.ISO_8859_1);
            if (!type.chars().allMatch(c -> c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')) {
                throw damaged("PNG", pos, "no chunk starts there");
            }
            if (!PNG_PIXEL_CHUNKS.contains(type) && Character.isUpperCase(type.charAt(0))) {
                // A critical chunk no decoder knows: libpng refuses the file, a lenient reader skips it. Blanking it
                // into an ancillary chunk would turn one into the other (found by fuzzing).
                throw damaged("PNG", pos, "unknown critical chunk " + type);
            }
            if (!PNG_PIXEL_CHUNKS.contains(type)) {
                byte[] blank = BLANK_CHUNK.getBytes(StandardCharsets.ISO_8859_1);
                System.arraycopy(blank, 0, out, pos + 4, 4);
                java.util.Arrays.fill(out, pos + 8, pos + 8 + (int) length, (byte) 0);
                java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                crc.update(out, pos + 4, 4 + (int) length);
                java.nio.ByteBuffer.wrap(out).putInt(pos + 8 + (int) length, (int) crc.getValue());
            }
            pos += total;
            if (type.equals("IEND")) {
                return java.util.Arrays.copyOf(out, pos);
            }
        }
        if (pos < b.length) {
            throw damaged("PNG", pos, "fewer bytes than a chunk");
        }
        throw damaged("PNG", pos, "the chunks end without IEND");
    }

    /**
     * JPEG metadata is blanked in place, not cut out: decoders resynchronise over damaged streams each in their own
     * way, and a stream rebuilt segment by segment could decode differently from the upload. So every segment keeps
     * its marker and length, comments and application segments get zeros for content. The walk ends at the
     * end-of-image marker (followed by padding at most); anything that is not a well-formed segment or a marker
     * without a length (TEM, a stray RSTn) where one must start makes the file refused.
     */
    static byte[] jpeg(byte[] b) {
        if (b.length < 2 || (b[0] & 0xFF) != 0xFF || (b[1] & 0xFF) != 0xD8) {
            return b;
        }
        byte[] out = b.clone();
        int pos = 2;
        while (pos + 1 < b.length && (b[pos] & 0xFF) == 0xFF) {
            int marker = b[pos + 1] & 0xFF;
            if (marker == 0xFF) { // fill byte
                pos++;
                continue;
            }
            if (marker == 0xD9) { // EOI
                if (!onlyPadding(b, pos + 2)) {
                    throw damaged("JPEG", pos + 2, "bytes after the end-of-image marker");
                }
                return out;
            }
            if (marker == 0x01 || marker >= 0xD0 && marker <= 0xD7) { // TEM, a stray RSTn: markers without a length
                pos += 2;
                continue;
            }
            if (marker < 0xC0 || marker == 0xD8 || pos + 4 > b.length) {
                throw damaged("JPEG", pos, String.format("marker 0x%02X where a segment must start", marker));
            }
            int length = ((b[pos + 2] & 0xFF) << 8) | (b[pos + 3] & 0xFF);
            if (length < 2 || pos + 2 + length > b.length) {
                throw damaged("JPEG", pos, "a segment claims " + length + " bytes");
            }
            int end = pos + 2 + length;
            boolean metadata = marker == 0xFE // COM
                    || marker >= 0xE1 && marker <= 0xEF && marker != 0xE2 && marker != 0xEE; // APPn but ICC, Adobe
            if (metadata) {
                java.util.Arrays.fill(out, pos + 4, end, (byte) 0);
            }
            if (marker == 0xDA) { // SOS: its entropy-coded data runs to the next marker that is not RSTn or stuffing
                end = endOfScan(b, end);
            }
            pos = end;
        }
        if (pos < b.length - 1) {
            throw damaged("JPEG", pos, "no segment starts there");
        }
        throw damaged("JPEG", pos, "the segments end without the end-of-image marker");
    }

    private static boolean onlyPadding(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] != 0 && b[i] != (byte) 0xFF) {
                return false;
            }
        }
        return true;
    }

    private static InvalidImageException damaged(String format, int at, String what) {
        return new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "the " + format + " file's structure "
                + "breaks at byte " + at + " (" + what + "): metadata past that point could not be removed; "
                + "export the image again");
    }

    /** Where the entropy-coded data that starts at {@code from} ends: at the next real marker, or the end. */
    private static int endOfScan(byte[] b, int from) {
        int i = from;
        while (i + 1 < b.length) {
            if ((b[i] & 0xFF) == 0xFF) {
                int next = b[i + 1] & 0xFF;
                if (next != 0x00 && !(next >= 0xD0 && next <= 0xD7) && next != 0xFF) {
                    return i;
                }
            }
            i++;
        }
        return b.length;
    }

    private static long u32(byte[] b, int at) {
        return ((b[at] & 0xFFL) << 24) | ((b[at + 1] & 0xFFL) << 16) | ((b[at + 2] & 0xFFL) << 8) | (b[at + 3] & 0xFFL);
    }
}
