package org.cxrtriage.imaging;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * DICOM X-rays: a bounded scan of the header first (sizes, transfer syntax, view position) so that limits and
 * lateral views are enforced before any pixel is decoded, then the pixel data is read straight from the upload.
 * Rescale slope/intercept and the VOI window are applied and MONOCHROME1 is inverted, so the result looks like every
 * other input: bright bone, dark air.
 *
 * <p>Only uncompressed little-endian syntaxes get this far (the scan refuses the others), so the pixel data is a
 * plain array of 8- or 16-bit little-endian samples. Each sample is read as PS3.5 8.1.1 describes: the
 * {@code BitsStored} bits ending at {@code HighBit}, sign-extended when {@code PixelRepresentation} is 1; bits outside
 * them (historically overlays) are ignored. Every stored value then goes through one lookup table that applies the
 * modality LUT ({@code v · slope + intercept}, in double, rounded to float), the window and the inversion, so the
 * whole decode is one or two passes over the samples.
 *
 * <p>Until this class read the pixels itself, ImageJ did, on a minimal re-encoding of the upload
 * ({@link DicomDeidentifier}). The values are the same for every well-formed file (the golden test compares both on
 * the synthetic fixtures and the bad-input corpus); they differ only where ImageJ ignored the header: sample bits
 * above {@code HighBit} (ImageJ kept them), signed {@code BitsStored} below the container that the writer did not
 * sign-extend, 8-bit signed samples (ImageJ read them as unsigned), and a rescale that overflows float with no VOI
 * window or a window whose bounds overflow double (ImageJ's path made NaN pixels; here such a rescale or window is
 * ignored like a non-numeric one).
 */
final class DicomImage {

    static final String EXPLICIT_LE = "1.2.840.10008.1.2.1";
    static final String IMPLICIT_LE = "1.2.840.10008.1.2";
    private static final Set<String> LONG_LENGTH_VRS = Set.of("OB", "OW", "OF", "SQ", "UT", "UN", "OD", "OL", "UC",
            "UR", "OV", "SV", "UV");
    private static final int PIXEL_DATA = 0x7FE00010;
    private static final VarHandle LE_SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    /**
     * What the header says, read without the pixel data. {@code bitsStored}, {@code highBit} and
     * {@code pixelRepresentation} are as written (-1 when absent); {@code pixelStart} is where the pixel data's value
     * begins in the file.
     */
    record Header(String transferSyntax, int rows, int columns, int bitsAllocated, int samplesPerPixel,
                  String photometric, String viewPosition, double rescaleSlope, double rescaleIntercept,
                  double windowCenter, double windowWidth, long pixelBytesAvailable, int bitsStored, int highBit,
                  int pixelRepresentation, int pixelStart) {
    }

    private DicomImage() {
    }

    static ImageInfo probe(byte[] bytes, ImageLimits limits) {
        return check(readHeader(bytes), limits);
    }

    /** The limits and what this decoder supports, checked on the header alone. */
    private static ImageInfo check(Header h, ImageLimits limits) {
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
            // X-ray detectors store 8 or 16 bits per sample; anything else is not a radiograph we can read.
            throw new InvalidImageException(RejectReason.UNSUPPORTED_FORMAT, "DICOM with " + h.bitsAllocated()
                    + " bits allocated per sample is not supported (8 or 16)");
        }
        if (ViewPositions.isLateral(h.viewPosition())) {
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
        return decodePlane(bytes, limits).toGray();
    }

    /**
     * The pixels in [0, 1] as a {@link Plane} over the upload's own pixel data: stored value → modality LUT → VOI
     * window (or the min..max of the image when the header has none) → inverted for MONOCHROME1, all in one lookup
     * table per image. {@link #check} has verified that the samples lie inside {@code bytes}.
     */
    static Plane decodePlane(byte[] bytes, ImageLimits limits) {
        Header h = readHeader(bytes);
        ImageInfo info = check(h, limits);
        int n = info.width() * info.height();
        Samples s = Samples.of(h);
        int lo;
        int hi;
        // A window whose bounds overflow double would make NaN pixels: ignored, the image's min..max is used.
        boolean windowed = h.windowWidth() > 1 && Double.isFinite(h.windowCenter() - h.windowWidth() / 2)
                && Double.isFinite(h.windowCenter() + h.windowWidth() / 2) && Double.isFinite(h.windowWidth());
        if (windowed) {
            lo = 0;
            hi = s.mask;
        } else {
            int[] range = s.indexRange(bytes, h.pixelStart(), n);
            lo = range[0];
            hi = range[1];
        }
        return new Pixels(info.width(), info.height(), bytes, h.pixelStart(), s, lookupTable(h, s, lo, hi, windowed),
                lo);
    }

    /** The stored samples of the upload, read through the lookup table. */
    private static final class Pixels extends Plane {
        private final byte[] b;
        private final int start;
        private final Samples s;
        private final float[] lut;
        private final int lo;

        Pixels(int width, int height, byte[] b, int start, Samples s, float[] lut, int lo) {
            super(width, height);
            this.b = b;
            this.start = start;
            this.s = s;
            this.lut = lut;
            this.lo = lo;
        }

        @Override
        void copyRow(int y, int x0, int n, float[] dst) {
            s.map(b, start + (y * width + x0) * (s.words ? 2 : 1), n, lut, lo, dst, false);
        }

        @Override
        void addRow(int y, int x0, int n, float[] dst) {
            s.map(b, start + (y * width + x0) * (s.words ? 2 : 1), n, lut, lo, dst, true);
        }

        @Override
        GrayImage toGray() {
            float[] out = new float[width * height];
            s.map(b, start, out.length, lut, lo, out, false);
            return new GrayImage(width, height, out);
        }
    }

    /**
     * The final value of every sample index in {@code [lo, hi]}, computed exactly as the values used to be: the
     * stored value times the slope plus the intercept in double, rounded to float, then windowed in double.
     * Without a VOI window the image's own min..max is the window: the modality LUT is monotonic, so those are the
     * values of the smallest and largest index present.
     */
    private static float[] lookupTable(Header h, Samples s, int lo, int hi, boolean windowed) {
        double slope = h.rescaleSlope();
        double intercept = h.rescaleIntercept();
        if (!windowed && (!Float.isFinite((float) (s.value(lo) * slope + intercept))
                || !Float.isFinite((float) (s.value(hi) * slope + intercept)))) {
            // Stretched between an infinite min and max, every pixel would be NaN: a rescale that overflows float is
            // then ignored like a non-numeric one. Within a finite window infinite values simply clip to 0 or 1.
            slope = 1;
            intercept = 0;
        }
        double low;
        double high;
        if (windowed) {
            low = h.windowCenter() - h.windowWidth() / 2;
            high = h.windowCenter() + h.windowWidth() / 2;
        } else {
            float a = (float) (s.value(lo) * slope + intercept);
            float z = (float) (s.value(hi) * slope + intercept);
            low = Math.min(a, z);
            high = Math.max(a, z);
        }
        double range = Math.max(high - low, 1e-6);
        boolean invert = "MONOCHROME1".equals(h.photometric());
        float[] lut = new float[hi - lo + 1];
        for (int i = lo; i <= hi; i++) {
            float v = (float) (s.value(i) * slope + intercept);
            float y = (float) Math.min(1, Math.max(0, (v - low) / range));
            lut[i - lo] = invert ? 1 - y : y;
        }
        return lut;
    }

    /**
     * How samples are laid out: container size, the stored bits ({@code index = (raw >>> shift) & mask}) and their
     * sign. Signed indices are offset by half the range ({@code ^ flip}) so that index order is value order.
     */
    private record Samples(boolean words, int shift, int mask, int flip) {
        static Samples of(Header h) {
            int allocated = h.bitsAllocated();
            // Absent or impossible BitsStored / HighBit: all bits of the container, as ImageJ read them.
            int stored = h.bitsStored() >= 1 && h.bitsStored() <= allocated ? h.bitsStored() : allocated;
            int high = h.highBit() >= stored - 1 && h.highBit() < allocated ? h.highBit() : stored - 1;
            int flip = h.pixelRepresentation() == 1 ? 1 << (stored - 1) : 0;
            return new Samples(allocated == 16, high + 1 - stored, (1 << stored) - 1, flip);
        }

        /** The stored value of an index. */
        double value(int index) {
            return index - flip;
        }

        /** {min, max} index over the {@code n} samples from {@code start}. */
        int[] indexRange(byte[] b, int start, int n) {
            int min = Integer.MAX_VALUE;
            int max = Integer.MIN_VALUE;
            if (words) {
                for (int i = 0, at = start; i < n; i++, at += 2) {
                    int index = ((short) LE_SHORT.get(b, at) & 0xFFFF) >>> shift & mask ^ flip;
                    min = Math.min(min, index);
                    max = Math.max(max, index);
                }
            } else {
                for (int i = 0, at = start; i < n; i++, at++) {
                    int index = (b[at] & 0xFF) >>> shift & mask ^ flip;
                    min = Math.min(min, index);
                    max = Math.max(max, index);
                }
            }
            return new int[] {min, max};
        }

        /**
         * {@code out[i] = lut[index(sample i) - lo]} (or {@code +=} when {@code add}) for the {@code n} samples from
         * byte {@code start}; every index lies in the table's range.
         */
        void map(byte[] b, int start, int n, float[] lut, int lo, float[] out, boolean add) {
            int shift = this.shift;
            int mask = this.mask;
            int flip = this.flip;
            if (words && add) {
                for (int i = 0, at = start; i < n; i++, at += 2) {
                    out[i] += lut[(((short) LE_SHORT.get(b, at) & 0xFFFF) >>> shift & mask ^ flip) - lo];
                }
            } else if (words) {
                for (int i = 0, at = start; i < n; i++, at += 2) {
                    out[i] = lut[(((short) LE_SHORT.get(b, at) & 0xFFFF) >>> shift & mask ^ flip) - lo];
                }
            } else if (add) {
                for (int i = 0, at = start; i < n; i++, at++) {
                    out[i] += lut[((b[at] & 0xFF) >>> shift & mask ^ flip) - lo];
                }
            } else {
                for (int i = 0, at = start; i < n; i++, at++) {
                    out[i] = lut[((b[at] & 0xFF) >>> shift & mask ^ flip) - lo];
                }
            }
        }
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
            switch (e.tag()) {
                case 0x00185101 -> h.view = text(b, at, len);
                case 0x00280002 -> h.samples = unsignedShort(buf, e);
                case 0x00280004 -> h.photometric = text(b, at, len);
                case 0x00280010 -> h.rows = unsignedShort(buf, e);
                case 0x00280011 -> h.cols = unsignedShort(buf, e);
                case 0x00280100 -> h.bits = unsignedShort(buf, e);
                case 0x00280101 -> h.bitsStored = optionalUnsignedShort(buf, e);
                case 0x00280102 -> h.highBit = optionalUnsignedShort(buf, e);
                case 0x00280103 -> h.pixelRepresentation = optionalUnsignedShort(buf, e);
                case 0x00281050 -> h.center = number(b, at, len, 0);
                case 0x00281051 -> h.width = number(b, at, len, 0);
                case 0x00281052 -> h.intercept = number(b, at, len, 0);
                case 0x00281053 -> h.slope = number(b, at, len, 1);
                case PIXEL_DATA -> {
                    if (e.length() == 0xFFFFFFFFL) {
                        // Only encapsulated (compressed) pixel data has an undefined length; refused here as the
                        // de-identifier refuses it, so whatever decodes can also be published (fuzz finding).
                        throw new InvalidImageException(RejectReason.UNSUPPORTED_FORMAT,
                                "encapsulated DICOM pixel data");
                    }
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
                h.center, h.width, available, h.bitsStored, h.highBit, h.pixelRepresentation, h.pixelStart);
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

    /**
     * A US value that only refines how samples are read (bits stored, high bit, pixel representation): a value
     * shorter than 2 bytes counts as absent (-1), as it does in the de-identified copy, which drops it.
     */
    private static int optionalUnsignedShort(ByteBuffer buf, Element e) {
        return e.length() < 2 ? -1 : buf.getShort(e.valueStart()) & 0xFFFF;
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
        int bitsStored = -1;
        int highBit = -1;
        int pixelRepresentation = -1;
        int pixelStart;
        long pixelLength = 0xFFFFFFFFL;
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
