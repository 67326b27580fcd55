package org.cxrtriage.imaging;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Re-encodes an uncompressed DICOM file as a minimal one that holds only what preprocessing needs, so that patient
 * names, ids, birth dates, study dates, institutions, physicians, UIDs, private tags and sequences never leave the
 * ingest service.
 *
 * <p>What is kept (an allow-list: anything not named here is dropped, nested sequence content included):
 * <ul>
 *   <li>the transfer syntax, always written as Explicit VR Little Endian (the pixel bytes of both supported syntaxes
 *       are identical, only the element encoding differs);</li>
 *   <li>SOP class and modality (constants such as "Digital X-Ray" / "DX", nothing about the patient);</li>
 *   <li>view position and (image) laterality, used by the lateral-view rule;</li>
 *   <li>the image pixel module: samples per pixel, photometric interpretation, rows, columns, planar configuration,
 *       bits allocated / stored, high bit, pixel representation, pixel spacing and imager pixel spacing;</li>
 *   <li>rescale slope / intercept, window centre / width and VOI LUT function;</li>
 *   <li>the pixel data, byte for byte.</li>
 * </ul>
 *
 * <p>The output decodes to exactly the same pixels as the input with {@link ImageDecoder}. Burned-in text inside the
 * pixels (rare on modern detectors) is not removed: that needs OCR, not header rewriting.
 */
public final class DicomDeidentifier {

    /** Kept tags and the VR written for each (used when the input is implicit VR, where no VR is stored). */
    private static final Map<Integer, String> KEPT = Map.ofEntries(
            Map.entry(0x00080016, "UI"), // SOP Class UID (a constant per image type)
            Map.entry(0x00080060, "CS"), // Modality
            Map.entry(0x00185101, "CS"), // View Position
            Map.entry(0x00181164, "DS"), // Imager Pixel Spacing
            Map.entry(0x00200060, "CS"), // Laterality
            Map.entry(0x00200062, "CS"), // Image Laterality
            Map.entry(0x00280002, "US"), // Samples per Pixel
            Map.entry(0x00280004, "CS"), // Photometric Interpretation
            Map.entry(0x00280006, "US"), // Planar Configuration
            Map.entry(0x00280010, "US"), // Rows
            Map.entry(0x00280011, "US"), // Columns
            Map.entry(0x00280030, "DS"), // Pixel Spacing
            Map.entry(0x00280100, "US"), // Bits Allocated
            Map.entry(0x00280101, "US"), // Bits Stored
            Map.entry(0x00280102, "US"), // High Bit
            Map.entry(0x00280103, "US"), // Pixel Representation
            Map.entry(0x00281050, "DS"), // Window Center
            Map.entry(0x00281051, "DS"), // Window Width
            Map.entry(0x00281052, "DS"), // Rescale Intercept
            Map.entry(0x00281053, "DS"), // Rescale Slope
            Map.entry(0x00281054, "LO"), // Rescale Type (e.g. "US" = unspecified)
            Map.entry(0x00281056, "CS")); // VOI LUT Function
    private static final int PIXEL_DATA = 0x7FE00010;
    private static final int BITS_ALLOCATED = 0x00280100;

    private DicomDeidentifier() {
    }

    /**
     * @param dicom an uncompressed DICOM file (Part 10), as accepted by {@link ImageProbe}
     * @return a new DICOM file holding only the kept elements and the pixel data
     * @throws InvalidImageException NOT_AN_IMAGE / UNSUPPORTED_FORMAT when the bytes are not uncompressed DICOM,
     *                               TRUNCATED_OR_CORRUPT when its elements cannot be walked
     */
    public static byte[] strip(byte[] dicom) throws InvalidImageException {
        if (ImageFormat.detect(dicom) != ImageFormat.DICOM) {
            throw new InvalidImageException(RejectReason.NOT_AN_IMAGE, "not a DICOM file");
        }
        // Tag order must be ascending in the output; all kept groups are below 0x8000, so int order is tag order.
        TreeMap<Integer, ByteBuffer> values = new TreeMap<>();
        DicomImage.scan(dicom, e -> {
            if (e.tag() == PIXEL_DATA) {
                if (e.length() == 0xFFFFFFFFL) {
                    // Only encapsulated (compressed) pixel data has an undefined length; scan refuses those syntaxes.
                    throw new InvalidImageException(RejectReason.UNSUPPORTED_FORMAT, "encapsulated DICOM pixel data");
                }
                long end = Math.min(dicom.length, e.valueStart() + e.length());
                values.put(PIXEL_DATA, slice(dicom, e.valueStart(), (int) end));
            } else if (KEPT.containsKey(e.tag())) {
                int length = (int) e.length();
                if ("US".equals(KEPT.get(e.tag()))) {
                    // One US value, exactly 2 bytes: a shorter one is dropped (readHeader refuses it where it matters),
                    // extra values are cut, so every reader walks the output the same way.
                    if (length < 2) {
                        return;
                    }
                    length = 2;
                }
                values.put(e.tag(), slice(dicom, e.valueStart(), e.valueStart() + length));
            }
        });
        return write(values);
    }

    /** A view of the input, not a copy: the pixel data is copied once, into the output. */
    private static ByteBuffer slice(byte[] b, int from, int to) {
        return ByteBuffer.wrap(b, from, to - from).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] write(TreeMap<Integer, ByteBuffer> values) {
        ByteBuffer bits = values.get(BITS_ALLOCATED);
        boolean words = bits == null || (bits.getShort(0) & 0xFFFF) > 8;
        ByteBuffer version = ByteBuffer.wrap(new byte[] {0, 1});
        ByteBuffer syntax = ByteBuffer.wrap(DicomImage.EXPLICIT_LE.getBytes(StandardCharsets.US_ASCII));
        int metaLength = size(version, "OB") + size(syntax, "UI");
        long total = 132L + 12 + metaLength;
        for (Map.Entry<Integer, ByteBuffer> v : values.entrySet()) {
            total += size(v.getValue(), vr(v.getKey(), words));
        }
        // One exact-size buffer: the pixel data (up to the byte limit) is copied once.
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(total)).order(ByteOrder.LITTLE_ENDIAN);
        out.position(128);
        out.put("DICM".getBytes(StandardCharsets.US_ASCII));
        element(out, 0x00020000, "UL", ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, metaLength));
        element(out, 0x00020001, "OB", version);
        element(out, 0x00020010, "UI", syntax);
        for (Map.Entry<Integer, ByteBuffer> v : values.entrySet()) {
            element(out, v.getKey(), vr(v.getKey(), words), v.getValue());
        }
        return out.array();
    }

    private static String vr(int tag, boolean words) {
        return tag == PIXEL_DATA ? (words ? "OW" : "OB") : KEPT.get(tag);
    }

    /**
     * Implicit VR input can hold values too long for a short-form VR (absurd, but readable): those are written as UN,
     * which has a 4-byte length and which our scan reads like any other long-form VR.
     */
    private static String written(ByteBuffer value, String vr) {
        return value.remaining() + 1 > 0xFFFF && !vr.equals("OB") && !vr.equals("OW") ? "UN" : vr;
    }

    private static boolean longLength(String vr) {
        return vr.equals("OB") || vr.equals("OW") || vr.equals("UN");
    }

    private static int size(ByteBuffer value, String vr) {
        return (longLength(written(value, vr)) ? 12 : 8) + value.remaining() + value.remaining() % 2;
    }

    /** Writes one explicit-VR little-endian element, padding odd values to even length as DICOM requires. */
    private static void element(ByteBuffer out, int tag, String vr, ByteBuffer value) {
        String w = written(value, vr);
        int length = value.remaining();
        int padded = length + length % 2;
        out.putShort((short) (tag >>> 16)).putShort((short) tag).put(w.getBytes(StandardCharsets.US_ASCII));
        if (longLength(w)) {
            out.putShort((short) 0).putInt(padded);
        } else {
            out.putShort((short) padded);
        }
        out.put(value.duplicate());
        if (padded > length) {
            // UI values are padded with NUL, text with a space, binary with 0.
            out.put(switch (vr) {
                case "CS", "DS", "LO" -> (byte) ' ';
                default -> (byte) 0;
            });
        }
    }
}
