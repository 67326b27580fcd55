package org.cxrtriage.imaging;

import ij.ImagePlus;
import ij.measure.Calibration;
import ij.plugin.DICOM;
import ij.process.ImageProcessor;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * DICOM X-rays: a bounded scan of the header first (sizes, transfer syntax, view position) so that limits and
 * lateral views are enforced before any pixel is decoded, then ImageJ's reader for the pixels. Rescale
 * slope/intercept and the VOI window are applied and MONOCHROME1 is inverted, so the result looks like every other
 * input: bright bone, dark air.
 */
final class DicomImage {

    static final String EXPLICIT_LE = "1.2.840.10008.1.2.1";
    static final String IMPLICIT_LE = "1.2.840.10008.1.2";
    private static final Set<String> LONG_LENGTH_VRS = Set.of("OB", "OW", "OF", "SQ", "UT", "UN", "OD", "OL", "UC",
            "UR", "OV", "SV", "UV");
    private static final int PIXEL_DATA = 0x7FE00010;

    /** What the header says, read without the pixel data. */
    record Header(String transferSyntax, int rows, int columns, int bitsAllocated, int samplesPerPixel,
                  String photometric, String viewPosition, double rescaleSlope, double rescaleIntercept,
                  double windowCenter, double windowWidth, long pixelBytesAvailable,
                  java.util.List<int[]> displayValues) {
    }

    /** Value positions ({offset, length}) of the photometric, window and rescale elements. */
    private static final Set<Integer> DISPLAY_TAGS = Set.of(0x00280004, 0x00281050, 0x00281051, 0x00281052,
            0x00281053);

    private DicomImage() {
    }

    static ImageInfo probe(byte[] bytes, ImageLimits limits) {
        Header h = readHeader(bytes);
        long pixels = (long) h.rows() * h.columns();
        if (pixels > limits.maxPixels()) {
            throw new InvalidImageException(RejectReason.TOO_MANY_PIXELS, "DICOM declares " + h.columns() + "x"
                    + h.rows() + " = " + pixels + " pixels, more than " + limits.maxPixels());
        }
        if (h.rows() < limits.minSide() || h.columns() < limits.minSide()) {
            throw new InvalidImageException(RejectReason.TOO_SMALL, "DICOM is " + h.columns() + "x" + h.rows()
                    + ", smaller than " + limits.minSide() + " px on a side");
        }
        long declared = pixels * h.samplesPerPixel() * ((h.bitsAllocated() + 7) / 8);
        if (declared > h.pixelBytesAvailable()) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "DICOM pixel data holds "
                    + h.pixelBytesAvailable() + " bytes but " + declared + " are declared");
        }
        return new ImageInfo(ImageFormat.DICOM, h.columns(), h.rows(), h.bitsAllocated(), h.samplesPerPixel());
    }

    static GrayImage decode(byte[] bytes, ImageLimits limits) {
        ImageInfo info = probe(bytes, limits);
        Header h = readHeader(bytes);
        if (isLateral(h.viewPosition())) {
            throw new InvalidImageException(RejectReason.LATERAL_VIEW, "DICOM view position is " + h.viewPosition()
                    + ": lateral views are not scored");
        }
        if (h.samplesPerPixel() != 1) {
            throw new InvalidImageException(RejectReason.UNSUPPORTED_FORMAT, "colour DICOM ("
                    + h.samplesPerPixel() + " samples per pixel) is not a radiograph");
        }
        DICOM dicom = new DICOM(new ByteArrayInputStream(storedValuesOnly(bytes, h)));
        // With an input stream set, ImageJ only uses the name for display; an empty one would open a file dialog.
        dicom.run("upload.dcm");
        ImagePlus imp = dicom;
        if (imp.getWidth() != info.width() || imp.getHeight() != info.height() || imp.getProcessor() == null) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "ImageJ could not read the DICOM pixels");
        }
        ImageProcessor ip = imp.getProcessor();
        Calibration cal = imp.getCalibration();
        int n = info.width() * info.height();
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            // Stored value (ImageJ's calibration only undoes its own signed-to-unsigned offset), then the modality LUT.
            values[i] = (float) (cal.getCValue(ip.getf(i)) * h.rescaleSlope() + h.rescaleIntercept());
        }
        return new GrayImage(info.width(), info.height(), window(values, h));
    }

    /**
     * A copy whose photometric, window and rescale values are neutral (MONOCHROME2, none, 1, 0), same lengths.
     * ImageJ then returns the stored values, and we apply the modality LUT, window and inversion ourselves: its own
     * handling of those goes through its GUI (fails headless) and skips some slope/intercept combinations.
     */
    private static byte[] storedValuesOnly(byte[] bytes, Header h) {
        byte[] copy = bytes.clone();
        for (int[] at : h.displayValues()) {
            int tag = at[0];
            String neutral = switch (tag) {
                case 0x00280004 -> "MONOCHROME2";
                case 0x00281053 -> "1";
                default -> "0";
            };
            if (neutral.length() > at[2]) {
                continue;
            }
            byte[] value = (neutral + " ".repeat(at[2] - neutral.length())).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(value, 0, copy, at[1], at[2]);
        }
        return copy;
    }

    /** Applies the VOI window when the header has one, else stretches min..max; inverts MONOCHROME1. */
    private static float[] window(float[] v, Header h) {
        double lo;
        double hi;
        if (h.windowWidth() > 1) {
            lo = h.windowCenter() - h.windowWidth() / 2;
            hi = h.windowCenter() + h.windowWidth() / 2;
        } else {
            lo = Double.MAX_VALUE;
            hi = -Double.MAX_VALUE;
            for (float x : v) {
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
            }
        }
        double range = Math.max(hi - lo, 1e-6);
        boolean invert = "MONOCHROME1".equals(h.photometric());
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            float y = (float) Math.min(1, Math.max(0, (v[i] - lo) / range));
            out[i] = invert ? 1 - y : y;
        }
        return out;
    }

    static boolean isLateral(String view) {
        if (view == null) {
            return false;
        }
        String v = view.trim().toUpperCase(Locale.ROOT);
        return v.equals("LL") || v.equals("RL") || v.equals("LLD") || v.equals("RLD") || v.contains("LAT");
    }

    /** Scans elements from the preamble to the pixel data; never reads the pixels themselves. */
    static Header readHeader(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int pos = 132;
        String syntax = null;
        int rows = -1;
        int cols = -1;
        int bits = 16;
        int samples = 1;
        String photometric = "MONOCHROME2";
        String view = null;
        double slope = 1;
        double intercept = 0;
        double center = 0;
        double width = 0;
        java.util.List<int[]> display = new java.util.ArrayList<>();
        try {
            while (pos + 8 <= b.length) {
                int group = buf.getShort(pos) & 0xFFFF;
                int element = buf.getShort(pos + 2) & 0xFFFF;
                int tag = group << 16 | element;
                boolean explicit = group == 0x0002 || !IMPLICIT_LE.equals(syntax);
                long length;
                int valueStart;
                if (explicit) {
                    String vr = new String(b, pos + 4, 2, StandardCharsets.US_ASCII);
                    if (LONG_LENGTH_VRS.contains(vr)) {
                        length = buf.getInt(pos + 8) & 0xFFFFFFFFL;
                        valueStart = pos + 12;
                    } else {
                        length = buf.getShort(pos + 6) & 0xFFFF;
                        valueStart = pos + 8;
                    }
                } else {
                    length = buf.getInt(pos + 4) & 0xFFFFFFFFL;
                    valueStart = pos + 8;
                }
                if (tag == PIXEL_DATA) {
                    if (syntax == null || rows < 0 || cols < 0) {
                        throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT,
                                "DICOM header lacks transfer syntax, rows or columns");
                    }
                    return new Header(syntax, rows, cols, bits, samples, photometric, view, slope, intercept,
                            center, width, b.length - (long) valueStart, display);
                }
                if (length == 0xFFFFFFFFL) {
                    pos = skipUndefinedLength(b, valueStart);
                    continue;
                }
                if (valueStart + length > b.length) {
                    break;
                }
                int len = (int) length;
                if (DISPLAY_TAGS.contains(tag)) {
                    display.add(new int[] {tag, valueStart, len});
                }
                switch (tag) {
                    case 0x00020010 -> {
                        syntax = text(b, valueStart, len);
                        if (!EXPLICIT_LE.equals(syntax) && !IMPLICIT_LE.equals(syntax)) {
                            throw new InvalidImageException(RejectReason.UNSUPPORTED_FORMAT, "DICOM transfer syntax "
                                    + syntax + " (compressed or big-endian) is not supported; send uncompressed DICOM");
                        }
                    }
                    case 0x00185101 -> view = text(b, valueStart, len);
                    case 0x00280002 -> samples = buf.getShort(valueStart) & 0xFFFF;
                    case 0x00280004 -> photometric = text(b, valueStart, len);
                    case 0x00280010 -> rows = buf.getShort(valueStart) & 0xFFFF;
                    case 0x00280011 -> cols = buf.getShort(valueStart) & 0xFFFF;
                    case 0x00280100 -> bits = buf.getShort(valueStart) & 0xFFFF;
                    case 0x00281050 -> center = number(b, valueStart, len, 0);
                    case 0x00281051 -> width = number(b, valueStart, len, 0);
                    case 0x00281052 -> intercept = number(b, valueStart, len, 0);
                    case 0x00281053 -> slope = number(b, valueStart, len, 1);
                    default -> { }
                }
                pos = valueStart + len;
            }
        } catch (IndexOutOfBoundsException e) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "DICOM header is cut off", e);
        }
        throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "DICOM has no pixel data");
    }

    /** Skips a sequence of undefined length up to its delimitation item (FFFE,E0DD). */
    private static int skipUndefinedLength(byte[] b, int from) {
        for (int i = from; i + 8 <= b.length; i += 2) {
            if ((b[i] & 0xFF) == 0xFE && (b[i + 1] & 0xFF) == 0xFF && (b[i + 2] & 0xFF) == 0xDD
                    && (b[i + 3] & 0xFF) == 0xE0) {
                return i + 8;
            }
        }
        throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "DICOM sequence is not terminated");
    }

    private static String text(byte[] b, int from, int len) {
        return new String(b, from, len, StandardCharsets.US_ASCII).replace('\0', ' ').trim();
    }

    /** DS values may hold several numbers separated by backslashes (e.g. several windows): the first counts. */
    private static double number(byte[] b, int from, int len, double fallback) {
        String s = text(b, from, len);
        if (s.isEmpty()) {
            return fallback;
        }
        try {
            return Double.parseDouble(s.split("\\\\")[0].trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
