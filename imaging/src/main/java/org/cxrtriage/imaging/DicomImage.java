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
        if (h.samplesPerPixel() != 1) {
            throw new InvalidImageException(RejectReason.UNSUPPORTED_FORMAT, "colour DICOM ("
                    + h.samplesPerPixel() + " samples per pixel) is not a radiograph");
        }
        if (h.bitsAllocated() != 8 && h.bitsAllocated() != 16) {
            // ImageJ reads 8, 16 and 32 (float or int) bits; X-ray detectors store 8 or 16. Anything else would be
            // read as garbage or fail deep inside ImageJ.
            throw new InvalidImageException(RejectReason.UNSUPPORTED_FORMAT, "DICOM with " + h.bitsAllocated()
                    + " bits allocated per sample is not supported (8 or 16)");
        }
        if (isLateral(h.viewPosition())) {
            throw new InvalidImageException(RejectReason.LATERAL_VIEW, "DICOM view position is " + h.viewPosition()
                    + ": lateral views are not scored");
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
        // ImageJ never sees the upload itself, only our own minimal re-encoding of it: ImageJ parses the header again
        // on its own terms (it descends into sequences, trusts nested lengths) and a fuzzed nested element length made
        // it allocate gigabytes. The re-encoding has no sequences, private or unknown elements, and every length is
        // that of bytes really present. It is also exactly what ingest publishes, so both decode the same.
        byte[] minimal = DicomDeidentifier.strip(bytes);
        Header h = readHeader(minimal);
        DICOM dicom = new DICOM(new ByteArrayInputStream(storedValuesOnly(minimal, h)));
        try {
            // With an input stream set, ImageJ only uses the name for display; an empty one would open a file dialog.
            dicom.run("upload.dcm");
        } catch (RuntimeException e) {
            // ImageJ parses the header again on its own terms; what it chokes on is damaged input, not our bug.
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "ImageJ could not read the DICOM: " + e, e);
        }
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
    private static byte[] storedValuesOnly(byte[] minimal, Header h) {
        // Changed in place: the array is our own fresh re-encoding.
        byte[] copy = minimal;
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

    /**
     * One top-level data element as the scan meets it: tag, VR (null in implicit VR), where its value starts and how
     * long it is (already checked to lie inside the bytes, except for the pixel data, whose length may be undefined).
     */
    record Element(int tag, String vr, int valueStart, long length) {
    }

    /** Receives top-level elements in file order; nested sequence items are skipped, not visited. */
    interface ElementVisitor {
        void visit(Element e);
    }

    /**
     * Walks the top-level elements from the preamble up to and including the pixel data element (whose value is not
     * read). Sequences and other values are skipped by their lengths, so nothing nested is visited.
     *
     * @return the transfer syntax declared in the file meta group (null when absent)
     * @throws InvalidImageException UNSUPPORTED_FORMAT for compressed or big-endian syntaxes, TRUNCATED_OR_CORRUPT
     *                               when the elements run past the end or no pixel data is found
     */
    static String scan(byte[] b, ElementVisitor visitor) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int pos = 132;
        String syntax = null;
        try {
            while (pos + 8 <= b.length) {
                int group = buf.getShort(pos) & 0xFFFF;
                int element = buf.getShort(pos + 2) & 0xFFFF;
                int tag = group << 16 | element;
                boolean explicit = group == 0x0002 || !IMPLICIT_LE.equals(syntax);
                long length;
                int valueStart;
                String vr = null;
                if (explicit) {
                    vr = new String(b, pos + 4, 2, StandardCharsets.US_ASCII);
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
                if (valueStart > b.length) {
                    break;
                }
                if (tag == PIXEL_DATA) {
                    visitor.visit(new Element(tag, vr, valueStart, length));
                    return syntax;
                }
                if (length == 0xFFFFFFFFL) {
                    pos = skipUndefinedLength(b, valueStart);
                    continue;
                }
                if (valueStart + length > b.length) {
                    break;
                }
                int len = (int) length;
                if (tag == 0x00020010) {
                    syntax = text(b, valueStart, len);
                    if (!EXPLICIT_LE.equals(syntax) && !IMPLICIT_LE.equals(syntax)) {
                        throw new InvalidImageException(RejectReason.UNSUPPORTED_FORMAT, "DICOM transfer syntax "
                                + syntax + " (compressed or big-endian) is not supported; send uncompressed DICOM");
                    }
                }
                visitor.visit(new Element(tag, vr, valueStart, len));
                pos = valueStart + len;
            }
        } catch (IndexOutOfBoundsException e) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "DICOM header is cut off", e);
        }
        throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "DICOM has no pixel data");
    }

    /** Scans elements from the preamble to the pixel data; never reads the pixels themselves. */
    static Header readHeader(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        HeaderBuilder h = new HeaderBuilder();
        String syntax = scan(b, e -> {
            int at = e.valueStart();
            int len = (int) Math.min(e.length(), Integer.MAX_VALUE);
            if (DISPLAY_TAGS.contains(e.tag())) {
                h.display.add(new int[] {e.tag(), at, len});
            }
            switch (e.tag()) {
                case 0x00185101 -> h.view = text(b, at, len);
                case 0x00280002 -> h.samples = unsignedShort(buf, e);
                case 0x00280004 -> h.photometric = text(b, at, len);
                case 0x00280010 -> h.rows = unsignedShort(buf, e);
                case 0x00280011 -> h.cols = unsignedShort(buf, e);
                case 0x00280100 -> h.bits = unsignedShort(buf, e);
                case 0x00281050 -> h.center = number(b, at, len, 0);
                case 0x00281051 -> h.width = number(b, at, len, 0);
                case 0x00281052 -> h.intercept = number(b, at, len, 0);
                case 0x00281053 -> h.slope = number(b, at, len, 1);
                case PIXEL_DATA -> {
                    h.pixelStart = at;
                    h.pixelLength = e.length();
                }
                default -> { }
            }
        });
        if (syntax == null || h.rows < 0 || h.cols < 0) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT,
                    "DICOM header lacks transfer syntax, rows or columns");
        }
        // The pixel data element's own length counts, not whatever follows it: bytes past it are not pixels (and
        // the de-identified copy carries only the element's value).
        long remaining = b.length - (long) h.pixelStart;
        long available = h.pixelLength == 0xFFFFFFFFL ? remaining : Math.min(h.pixelLength, remaining);
        return new Header(syntax, h.rows, h.cols, h.bits, h.samples, h.photometric, h.view, h.slope, h.intercept,
                h.center, h.width, available, h.display);
    }

    /** A US value; a shorter value is corrupt (reading on would take bytes of the next element). */
    private static int unsignedShort(ByteBuffer buf, Element e) {
        if (e.length() < 2) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, String.format(Locale.ROOT,
                    "DICOM element (%04X,%04X) holds %d bytes, a US value needs 2", e.tag() >>> 16, e.tag() & 0xFFFF,
                    e.length()));
        }
        return buf.getShort(e.valueStart()) & 0xFFFF;
    }

    /** Mutable state of {@link #readHeader} while scanning. */
    private static final class HeaderBuilder {
        int rows = -1;
        int cols = -1;
        int bits = 16;
        int samples = 1;
        String photometric = "MONOCHROME2";
        String view;
        double slope = 1;
        double intercept;
        double center;
        double width;
        int pixelStart;
        long pixelLength = 0xFFFFFFFFL;
        final java.util.List<int[]> display = new java.util.ArrayList<>();
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
            double v = Double.parseDouble(s.split("\\\\")[0].trim());
            // "NaN" and "Infinity" parse, and 1e999 overflows: none is a usable slope, intercept or window.
            return Double.isFinite(v) ? v : fallback;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
