package org.cxrtriage.imaging;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
        TreeMap<Integer, byte[]> values = new TreeMap<>();
        DicomImage.scan(dicom, e -> {
            if (e.tag() == PIXEL_DATA) {
                if (e.length() == 0xFFFFFFFFL) {
                    // Only encapsulated (compressed) pixel data has an undefined length; scan refuses those syntaxes.
                    throw new InvalidImageException(RejectReason.UNSUPPORTED_FORMAT, "encapsulated DICOM pixel data");
                }
                long end = Math.min(dicom.length, e.valueStart() + e.length());
                values.put(PIXEL_DATA, Arrays.copyOfRange(dicom, e.valueStart(), (int) end));
            } else if (KEPT.containsKey(e.tag())) {
                values.put(e.tag(), Arrays.copyOfRange(dicom, e.valueStart(), e.valueStart() + (int) e.length()));
            }
        });
        return write(values);
    }

    private static byte[] write(TreeMap<Integer, byte[]> values) {
        ByteArrayOutputStream body = new ByteArrayOutputStream(values.getOrDefault(PIXEL_DATA, new byte[0]).length + 1024);
        byte[] bits = values.get(BITS_ALLOCATED);
        boolean words = bits == null || bits.length < 2
                || (ByteBuffer.wrap(bits).order(ByteOrder.LITTLE_ENDIAN).getShort(0) & 0xFFFF) > 8;
        for (Map.Entry<Integer, byte[]> v : values.entrySet()) {
            int tag = v.getKey();
            String vr = tag == PIXEL_DATA ? (words ? "OW" : "OB") : KEPT.get(tag);
            element(body, tag, vr, v.getValue());
        }
        ByteArrayOutputStream meta = new ByteArrayOutputStream();
        element(meta, 0x00020001, "OB", new byte[] {0, 1});
        element(meta, 0x00020010, "UI", DicomImage.EXPLICIT_LE.getBytes(StandardCharsets.US_ASCII));
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.size() + meta.size() + 160);
        out.writeBytes(new byte[128]);
        out.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
        element(out, 0x00020000, "UL", ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(meta.size()).array());
        out.writeBytes(meta.toByteArray());
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    /** Writes one explicit-VR little-endian element, padding odd values to even length as DICOM requires. */
    private static void element(ByteArrayOutputStream out, int tag, String vr, byte[] value) {
        byte[] v = value;
        if (v.length % 2 != 0) {
            v = Arrays.copyOf(value, value.length + 1);
            // UI values are padded with NUL, text with a space, binary with 0.
            v[value.length] = switch (vr) {
                case "CS", "DS", "LO" -> (byte) ' ';
                default -> 0;
            };
        }
        boolean longLength = vr.equals("OB") || vr.equals("OW");
        ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort((short) (tag >>> 16)).putShort((short) tag).put(vr.getBytes(StandardCharsets.US_ASCII));
        if (longLength) {
            h.putShort((short) 0).putInt(v.length);
        } else {
            if (v.length > 0xFFFF) {
                throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, String.format(java.util.Locale.ROOT,
                        "DICOM element (%04X,%04X) is %d bytes long", tag >>> 16, tag & 0xFFFF, v.length));
            }
            h.putShort((short) v.length);
        }
        out.write(h.array(), 0, h.position());
        out.writeBytes(v);
    }
}
