package org.cxrtriage.imaging;

import java.io.IOException;
import java.util.Objects;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Reads what an encoded image declares (format, size, depth, channels) without decoding its pixels, and
 * applies the {@link ImageLimits}. Cheap enough for the ingest service to check every upload before it is
 * published; decoding can then allocate safely.
 *
 * <p>Passing the probe does not prove the pixel data is complete; {@link ImageDecoder} checks that.
 */
public final class ImageProbe {
    private ImageProbe() {
    }

    /**
     * @param bytes  the encoded image (PNG, JPEG or TIFF)
     * @param limits byte, pixel and side limits
     * @return what the header declares
     * @throws InvalidImageException EMPTY, TOO_MANY_BYTES, NOT_AN_IMAGE, UNSUPPORTED_FORMAT, TOO_MANY_PIXELS,
     *                               TOO_SMALL or TRUNCATED_OR_CORRUPT (unreadable header, missing PNG trailer)
     */
    public static ImageInfo probe(byte[] bytes, ImageLimits limits) throws InvalidImageException {
        Objects.requireNonNull(limits, "limits");
        ImageFormat format = checkBytes(bytes, limits);
        if (format == ImageFormat.DICOM) {
            return DicomImage.probe(bytes, limits);
        }
        ImageReader reader = ImageReaders.create(format);
        try (ImageInputStream in = ImageReaders.stream(bytes)) {
            reader.setInput(in, true, true);
            ImageInfo info = ImageReaders.readHeader(reader, bytes, format, limits);
            ImageReaders.checkTrailer(bytes, format);
            return info;
        } catch (InvalidImageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Readers signal broken headers with IIOException but also with unchecked exceptions.
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "unreadable " + format + " header: " + e.getMessage(), e);
        } finally {
            reader.dispose();
        }
    }

    /** Checks that need only the byte array: emptiness, size, signature. */
    static ImageFormat checkBytes(byte[] bytes, ImageLimits limits) {
        if (bytes == null || bytes.length == 0) {
            throw new InvalidImageException(RejectReason.EMPTY, "no image bytes");
        }
        if (bytes.length > limits.maxBytes()) {
            throw new InvalidImageException(RejectReason.TOO_MANY_BYTES,
                    bytes.length + " bytes exceed the limit of " + limits.maxBytes());
        }
        return ImageFormat.detect(bytes);
    }
}
