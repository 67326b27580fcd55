package org.cxrtriage.imaging;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/** ImageIO plumbing shared by {@link ImageProbe} and {@link ImageDecoder}. */
final class ImageReaders {
    private ImageReaders() {
    }

    /**
     * A fresh reader for the format. PNG uses the JDK reader (TwelveMonkeys has none); JPEG and TIFF prefer the
     * TwelveMonkeys readers, which handle lossless/12-bit JPEG and far more TIFF variants than the JDK.
     * Readers are stateful, so every call gets its own instance.
     */
    static ImageReader create(ImageFormat format) {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByMIMEType(format.mimeType());
        ImageReader chosen = null;
        while (readers.hasNext()) {
            ImageReader candidate = readers.next();
            boolean twelveMonkeys = candidate.getClass().getName().startsWith("com.twelvemonkeys.");
            if (chosen == null || (twelveMonkeys && format != ImageFormat.PNG)) {
                if (chosen != null) {
                    chosen.dispose();
                }
                chosen = candidate;
            } else {
                candidate.dispose();
            }
        }
        if (chosen == null) {
            // Only happens when the ImageIO plugins are not on the class path (e.g. a shaded jar without
            // merged META-INF/services): a deployment error, not bad input.
            throw new IllegalStateException("no ImageIO reader for " + format + "; are the TwelveMonkeys plugins registered?");
        }
        return chosen;
    }

    /**
     * An in-memory stream: {@code ImageIO.createImageInputStream} would spill to temp files when
     * {@code ImageIO.getUseCache()} is on (the default), which is slow and pointless for bytes already in memory.
     */
    static ImageInputStream stream(byte[] bytes) {
        return new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes));
    }

    /**
     * Reads and checks the header of image 0 of a reader whose input is {@code bytes}. Decodes no pixels. A TIFF's
     * declarations are checked on the bytes first ({@link TiffChecks#checkDeclarations}): its reader allocates by them.
     */
    static ImageInfo readHeader(ImageReader reader, byte[] bytes, ImageFormat format, ImageLimits limits)
            throws IOException {
        if (format == ImageFormat.TIFF) {
            TiffChecks.checkDeclarations(bytes, limits);
        }
        int width = reader.getWidth(0);
        int height = reader.getHeight(0);
        if (width <= 0 || height <= 0) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "header declares " + width + "x" + height);
        }
        long pixels = (long) width * height;
        if (pixels > limits.maxPixels()) {
            throw new InvalidImageException(RejectReason.TOO_MANY_PIXELS,
                    "header declares " + width + "x" + height + " = " + pixels + " pixels, limit " + limits.maxPixels());
        }
        if (Math.min(width, height) < limits.minSide()) {
            throw new InvalidImageException(RejectReason.TOO_SMALL,
                    width + "x" + height + " has a side shorter than " + limits.minSide() + " px");
        }
        ImageTypeSpecifier type = reader.getRawImageType(0);
        if (type == null) {
            // Some JPEG colour spaces have no raw type; the first converted type still tells depth and channels.
            Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
            type = types.hasNext() ? types.next() : null;
        }
        int bitDepth = type == null ? 8 : type.getSampleModel().getSampleSize(0);
        int channels = type == null ? 1 : type.getColorModel().getNumComponents();
        return new ImageInfo(format, width, height, bitDepth, channels);
    }

    /**
     * A cheap structural check that needs no decoding: a complete PNG ends with an IEND chunk, a JPEG with EOI, and
     * every strip a TIFF lists lies inside the file ({@link TiffChecks#checkStrips}). The JDK PNG reader does not look
     * for IEND, and truncation right after the last IDAT byte would otherwise go unnoticed.
     * We search the last 1 KiB rather than the exact end to tolerate junk appended by some writers.
     */
    static void checkTrailer(byte[] bytes, ImageFormat format) {
        if (format == ImageFormat.PNG && lastIndexOf(bytes, new byte[] {'I', 'E', 'N', 'D'}, 1024) < 0) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "PNG has no IEND chunk: file is truncated");
        }
        // JPEG ends with an EOI marker (FF D9), possibly followed by padding: cut-off files lack it.
        if (format == ImageFormat.JPEG && lastIndexOf(bytes, new byte[] {(byte) 0xFF, (byte) 0xD9}, 1024) < 0) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "JPEG has no EOI marker: file is truncated");
        }
        if (format == ImageFormat.TIFF) {
            TiffChecks.checkStrips(bytes);
        }
    }

    private static int lastIndexOf(byte[] haystack, byte[] needle, int window) {
        int from = Math.max(0, haystack.length - window);
        for (int i = haystack.length - needle.length; i >= from; i--) {
            boolean match = true;
            for (int j = 0; j < needle.length && match; j++) {
                match = haystack[i + j] == needle[j];
            }
            if (match) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Collects reader warnings. libjpeg (behind both JPEG readers) does not fail on truncated data: it warns
     * "Premature end of JPEG file" and fills the rest with gray, so warnings are our only signal.
     */
    static final class Warnings implements IIOReadWarningListener {
        private final List<String> messages = new ArrayList<>();

        @Override
        public void warningOccurred(ImageReader source, String warning) {
            messages.add(warning == null ? "" : warning);
        }

        List<String> messages() {
            return messages;
        }

        /**
         * The first warning that means pixel data is missing, or null. Other warnings (odd metadata,
         * extraneous bytes before a marker) leave a complete image and are tolerated.
         */
        String dataLoss() {
            for (String m : messages) {
                String s = m.toLowerCase(Locale.ROOT);
                if (s.contains("premature end") || s.contains("truncat") || s.contains("unexpected end")
                        || s.contains("end of file") || s.contains("eof") || s.contains("insufficient")) {
                    return m;
                }
            }
            return null;
        }
    }
}
