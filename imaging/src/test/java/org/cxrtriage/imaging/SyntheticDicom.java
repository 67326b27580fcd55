package org.cxrtriage.imaging;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.IntBinaryOperator;

/**
 * Writes single-frame grayscale DICOM files (Part 10) in code, with a realistic patient/study header full of
 * identifying values (so that de-identification can be checked) and knobs for every field the corpus breaks.
 * Shared with other modules' tests through the imaging test-jar.
 */
public final class SyntheticDicom {

    /** Identifying values written into the header; none may survive {@link DicomDeidentifier}. */
    public static final String PATIENT_NAME = "DOE^JANE^Q";
    public static final String PATIENT_ID = "MRN-4711-0815";
    public static final String BIRTH_DATE = "19580214";
    public static final String STUDY_DATE = "20200317";
    public static final String INSTITUTION = "St Elsewhere General";
    public static final String PHYSICIAN = "HOUSE^GREGORY";
    public static final String ACCESSION = "ACC99887766";
    public static final String STUDY_UID = "1.2.826.0.1.3680043.8.498.1234567890123";
    public static final String PRIVATE_NOTE = "call patient on 555-0199";

    public String syntax = DicomImage.EXPLICIT_LE;
    public String photometric = "MONOCHROME2";
    public String view = "PA";
    public int rows = 96;
    public int cols = 112;
    /** Overrides the rows written in the header (not the pixel data); -1 writes {@link #rows}. */
    public int declaredRows = -1;
    /** Overrides the columns written in the header; -1 writes {@link #cols}. */
    public int declaredCols = -1;
    public int samplesPerPixel = 1;
    public int bitsAllocated = 16;
    public int bitsStored = 12;
    /** Overrides the high bit written in the header; -1 writes {@code bitsStored - 1}. */
    public int highBit = -1;
    /** 0: unsigned samples, 1: two's complement. */
    public int pixelRepresentation = 0;
    public String slope = "1";
    public String intercept = "0";
    public String windowCenter;
    public String windowWidth;
    /** Write the patient, study and institution elements, a private tag and a nested sequence. */
    public boolean patientHeader = true;
    /** Keep only this many bytes of pixel data (-1: all). */
    public int pixelBytesKept = -1;

    /**
     * A smooth, deterministic chest-like pattern over the stored range of {@link #bitsStored} bits: 0 ..
     * 2<sup>bits</sup> − 1, or centred on 0 for signed samples ({@link #pixelRepresentation} 1).
     */
    public IntBinaryOperator chest() {
        int max = (1 << Math.min(bitsStored, 16)) - 1;
        int offset = pixelRepresentation == 1 ? (max + 1) / 2 : 0;
        int w = cols;
        int h = rows;
        return (x, y) -> {
            double u = (x + 0.5) / w - 0.5;
            double v = (y + 0.5) / h - 0.5;
            double body = Math.max(0, 1 - (u * u / 0.2 + v * v / 0.25));
            double lungs = Math.exp(-((Math.abs(u) - 0.18) * (Math.abs(u) - 0.18) / 0.01 + v * v / 0.05));
            double value = 0.1 + 0.7 * body - 0.4 * lungs + 0.05 * Math.sin(x * 0.7 + y * 0.3);
            return (int) Math.round(Math.max(0, Math.min(1, value)) * max) - offset;
        };
    }

    public byte[] write() {
        return write(chest());
    }

    public byte[] write(IntBinaryOperator pixel) {
        boolean explicit = !syntax.equals(DicomImage.IMPLICIT_LE);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[128]);
        out.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
        element(out, 0x0002, 0x0010, "UI", ui(syntax), true);
        element(out, 0x0008, 0x0016, "UI", ui("1.2.840.10008.5.1.4.1.1.1.1"), explicit);
        element(out, 0x0008, 0x0018, "UI", ui(STUDY_UID + ".7.1"), explicit);
        if (patientHeader) {
            element(out, 0x0008, 0x0020, "DA", text(STUDY_DATE), explicit);
            element(out, 0x0008, 0x0050, "SH", text(ACCESSION), explicit);
        }
        element(out, 0x0008, 0x0060, "CS", text("DX"), explicit);
        if (patientHeader) {
            element(out, 0x0008, 0x0080, "LO", text(INSTITUTION), explicit);
            element(out, 0x0008, 0x0090, "PN", text(PHYSICIAN), explicit);
            // A defined-length sequence whose item repeats the patient name (Referenced Patient Sequence).
            ByteArrayOutputStream item = new ByteArrayOutputStream();
            element(item, 0x0010, 0x0010, "PN", text(PATIENT_NAME), explicit);
            ByteArrayOutputStream seq = new ByteArrayOutputStream();
            seq.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0xFFFE)
                    .putShort((short) 0xE000).putInt(item.size()).array());
            seq.writeBytes(item.toByteArray());
            element(out, 0x0008, 0x1120, "SQ", seq.toByteArray(), explicit);
            element(out, 0x0010, 0x0010, "PN", text(PATIENT_NAME), explicit);
            element(out, 0x0010, 0x0020, "LO", text(PATIENT_ID), explicit);
            element(out, 0x0010, 0x0030, "DA", text(BIRTH_DATE), explicit);
            element(out, 0x0010, 0x0040, "CS", text("F"), explicit);
        }
        element(out, 0x0018, 0x5101, "CS", text(view), explicit);
        if (patientHeader) {
            element(out, 0x0020, 0x000D, "UI", ui(STUDY_UID), explicit);
            element(out, 0x0020, 0x0010, "SH", text("STUDY-0042"), explicit);
        }
        element(out, 0x0028, 0x0002, "US", u16(samplesPerPixel), explicit);
        element(out, 0x0028, 0x0004, "CS", text(photometric), explicit);
        element(out, 0x0028, 0x0010, "US", u16(declaredRows >= 0 ? declaredRows : rows), explicit);
        element(out, 0x0028, 0x0011, "US", u16(declaredCols >= 0 ? declaredCols : cols), explicit);
        element(out, 0x0028, 0x0030, "DS", text("0.143\\0.143"), explicit);
        element(out, 0x0028, 0x0100, "US", u16(bitsAllocated), explicit);
        element(out, 0x0028, 0x0101, "US", u16(bitsStored), explicit);
        element(out, 0x0028, 0x0102, "US", u16(highBit >= 0 ? highBit : bitsStored - 1), explicit);
        element(out, 0x0028, 0x0103, "US", u16(pixelRepresentation), explicit);
        if (windowCenter != null) {
            element(out, 0x0028, 0x1050, "DS", text(windowCenter), explicit);
            element(out, 0x0028, 0x1051, "DS", text(windowWidth), explicit);
        }
        element(out, 0x0028, 0x1052, "DS", text(intercept), explicit);
        element(out, 0x0028, 0x1053, "DS", text(slope), explicit);
        if (patientHeader) {
            // A private creator and a private element: vendors put anything there, names included.
            element(out, 0x0029, 0x0010, "LO", text("ACME XRAY"), explicit);
            element(out, 0x0029, 0x1001, "LO", text(PRIVATE_NOTE + " " + PATIENT_NAME), explicit);
        }
        byte[] data = pixels(pixel);
        element(out, 0x7FE0, 0x0010, bitsAllocated > 8 ? "OW" : "OB", data, explicit);
        byte[] all = out.toByteArray();
        return pixelBytesKept >= 0 ? Arrays.copyOf(all, all.length - data.length + pixelBytesKept) : all;
    }

    private byte[] pixels(IntBinaryOperator pixel) {
        int bytesPerSample = Math.max(1, (bitsAllocated + 7) / 8);
        ByteBuffer px = ByteBuffer.allocate(rows * cols * samplesPerPixel * bytesPerSample).order(ByteOrder.LITTLE_ENDIAN);
        for (int y = 0; y < rows; y++) {
            for (int x = 0; x < cols; x++) {
                int v = pixel.applyAsInt(x, y);
                for (int s = 0; s < samplesPerPixel; s++) {
                    for (int k = 0; k < bytesPerSample; k++) {
                        px.put((byte) (v >>> (8 * k)));
                    }
                }
            }
        }
        byte[] data = px.array();
        return data.length % 2 == 0 ? data : Arrays.copyOf(data, data.length + 1);
    }

    static void element(ByteArrayOutputStream out, int group, int elem, String vr, byte[] value, boolean explicit) {
        ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort((short) group).putShort((short) elem);
        if (!explicit) {
            h.putInt(value.length);
        } else if (vr.equals("OW") || vr.equals("OB") || vr.equals("SQ") || vr.equals("UN")) {
            h.put(vr.getBytes(StandardCharsets.US_ASCII)).putShort((short) 0).putInt(value.length);
        } else {
            h.put(vr.getBytes(StandardCharsets.US_ASCII)).putShort((short) value.length);
        }
        out.write(h.array(), 0, h.position());
        out.writeBytes(value);
    }

    static byte[] text(String s) {
        String v = s.length() % 2 == 0 ? s : s + " ";
        return v.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] ui(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        return b.length % 2 == 0 ? b : Arrays.copyOf(b, b.length + 1);
    }

    static byte[] u16(int v) {
        return ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) v).array();
    }
}
