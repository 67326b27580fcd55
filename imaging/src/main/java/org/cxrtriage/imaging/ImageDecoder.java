package org.cxrtriage.imaging;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferUShort;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.util.Objects;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Decodes PNG, JPEG, TIFF and (uncompressed) DICOM bytes into a {@link GrayImage} with values in {@code [0, 1]}.
 *
 * <ul>
 *   <li>8- and 16-bit (and other depths of) grayscale: sample / (2<sup>bits</sup> − 1).</li>
 *   <li>RGB/RGBA and palette images: Rec. 601 luma of the stored (gamma-encoded) values; alpha is ignored,
 *       because compositing onto any background would invent intensities.</li>
 * </ul>
 *
 * <p>Common layouts are read straight from the raster's data buffer (a 4280×3520 image is 15 M pixels;
 * per-pixel {@code getRGB} would cost more than the PNG inflate). Rare layouts fall back to row-wise
 * {@code getRGB}, which is correct for any colour model but limited to 8 bits.
 *
 * <p>Truncated or damaged data is rejected rather than returned half-gray: the reader's exceptions, its
 * warnings (libjpeg only warns on a premature end) and a PNG trailer check are all taken into account.
 */
public final class ImageDecoder {
    private static final float LUMA_R = 0.299f;
    private static final float LUMA_G = 0.587f;
    private static final float LUMA_B = 0.114f;

    private ImageDecoder() {
    }

    /**
     * @throws InvalidImageException for every {@link ImageProbe} rejection, and TRUNCATED_OR_CORRUPT when the
     *                               pixel data cannot be decoded completely
     */
    public static GrayImage decode(byte[] bytes, ImageLimits limits) throws InvalidImageException {
        return decodePlane(bytes, limits).toGray();
    }

    /**
     * As {@link #decode(byte[], ImageLimits)}, as a {@link Plane}: 8- and 16-bit PNG and DICOM stay in their
     * samples, and {@code decodePlane(b, l).toGray()} is {@code decode(b, l)}.
     */
    static Plane decodePlane(byte[] bytes, ImageLimits limits) throws InvalidImageException {
        Objects.requireNonNull(limits, "limits");
        ImageFormat format = ImageProbe.checkBytes(bytes, limits);
        if (format == ImageFormat.DICOM) {
            return DicomImage.decodePlane(bytes, limits);
        }
        if (format == ImageFormat.PNG) {
            Plane fast = decodePngNatively(bytes, limits);
            if (fast != null) {
                return fast;
            }
            // libpng refused it: the Java reader below says precisely why (or decodes what libpng would not).
        }
        ImageReader reader = ImageReaders.create(format);
        try (ImageInputStream in = ImageReaders.stream(bytes)) {
            reader.setInput(in, true, true);
            // Header first: the limits must be enforced before the reader allocates the raster.
            ImageInfo info = ImageReaders.readHeader(reader, bytes, format, limits);
            ImageReaders.checkTrailer(bytes, format);
            ImageReaders.Warnings warnings = new ImageReaders.Warnings();
            reader.addIIOReadWarningListener(warnings);
            BufferedImage image = reader.read(0, reader.getDefaultReadParam());
            String loss = warnings.dataLoss();
            if (loss != null) {
                throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, format + " pixel data incomplete: " + loss);
            }
            if (image.getWidth() != info.width() || image.getHeight() != info.height()) {
                throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "decoded " + image.getWidth() + "x"
                        + image.getHeight() + " but header declares " + info.width() + "x" + info.height());
            }
            return Plane.of(new GrayImage(image.getWidth(), image.getHeight(), toGray(image)));
        } catch (InvalidImageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new InvalidImageException(RejectReason.TRUNCATED_OR_CORRUPT, "cannot decode " + format + ": " + e.getMessage(), e);
        } finally {
            reader.dispose();
        }
    }

    /**
     * PNG without ImageIO: 8- and 16-bit gray (what radiographs are) through {@link PngGray}, everything else and
     * anything {@link PngGray} refuses through OpenCV's libpng, about twice as fast as the ImageIO reader on large
     * radiographs. Runs only after {@link ImageProbe} checked the header against the limits and found the PNG
     * trailer, so no size is decoded that the limits refuse. Gray, palette and RGB(A) become luma with the Rec. 601
     * weights the Java path uses; alpha is ignored; 16-bit samples keep their precision (scaled as OpenCV's
     * {@code convertTo} scales them, so both routes give the same floats). Returns null when libpng fails.
     */
    private static Plane decodePngNatively(byte[] bytes, ImageLimits limits) throws InvalidImageException {
        ImageInfo info = ImageProbe.probe(bytes, limits); // header limits and trailer, before any pixel
        PngGray.Samples samples = PngGray.decode(bytes);
        if (samples != null && samples.width() == info.width() && samples.height() == info.height()) {
            return samples.depth() == 8 ? Plane.of8(samples.width(), samples.height(), samples.samples8())
                    : Plane.of16(samples.width(), samples.height(), samples.samples16());
        }
        OpenCv.load();
        try (OpenCv.Scope s = new OpenCv.Scope()) {
            Mat encoded = s.add(new MatOfByte(bytes));
            Mat gray = s.add(Imgcodecs.imdecode(encoded, Imgcodecs.IMREAD_GRAYSCALE | Imgcodecs.IMREAD_ANYDEPTH));
            if (gray.empty() || gray.cols() != info.width() || gray.rows() != info.height()) {
                return null;
            }
            if (gray.depth() == CvType.CV_8U) {
                return Plane.of8(gray.cols(), gray.rows(), OpenCv.bytes(gray));
            }
            if (gray.depth() != CvType.CV_16U) {
                return null;
            }
            Mat scaled = s.add(new Mat());
            gray.convertTo(scaled, CvType.CV_32F, 1.0 / 65535.0);
            return Plane.of(new GrayImage(gray.cols(), gray.rows(), OpenCv.floats(scaled)));
        }
    }

    /** 16-bit samples to [0, 1] exactly as {@code convertTo(CV_32F, 1.0 / 65535.0)} does: times the float scale. */
    static float[] scale16(char[] samples) {
        float scale = (float) (1.0 / 65535.0);
        float[] out = new float[samples.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = samples[i] * scale;
        }
        return out;
    }

    /** Decodes with {@link ImageLimits#defaults()}. */
    public static GrayImage decode(byte[] bytes) throws InvalidImageException {
        return decode(bytes, ImageLimits.defaults());
    }

    /** Converts any decoded image to gray values in [0, 1]. Package-private for tests. */
    static float[] toGray(BufferedImage image) {
        Raster raster = image.getRaster();
        ColorModel cm = image.getColorModel();
        boolean untranslated = raster.getSampleModelTranslateX() == 0 && raster.getSampleModelTranslateY() == 0;
        if (cm instanceof IndexColorModel icm) {
            return fromPalette(raster, icm);
        }
        if (untranslated && cm instanceof ComponentColorModel && raster.getSampleModel() instanceof ComponentSampleModel csm
                && (csm.getDataType() == DataBuffer.TYPE_BYTE || csm.getDataType() == DataBuffer.TYPE_USHORT)) {
            int space = cm.getColorSpace().getType();
            int colours = cm.getNumColorComponents();
            if (space == ColorSpace.TYPE_GRAY && colours == 1) {
                return fromComponents(raster, csm, new int[] {0}, new float[] {1f});
            }
            if (space == ColorSpace.TYPE_RGB && colours == 3) {
                return fromComponents(raster, csm, new int[] {0, 1, 2}, new float[] {LUMA_R, LUMA_G, LUMA_B});
            }
        }
        return viaRgbRows(image);
    }

    /**
     * Weighted sum of the given bands read directly from the data buffer, scaled by the band's bit depth.
     * Handles interleaved and banded layouts (band offsets, bank indices, pixel and scanline strides).
     */
    private static float[] fromComponents(Raster raster, ComponentSampleModel csm, int[] bands, float[] weights) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        float[] out = new float[w * h];
        DataBuffer buffer = raster.getDataBuffer();
        int pixelStride = csm.getPixelStride();
        int scanlineStride = csm.getScanlineStride();
        for (int k = 0; k < bands.length; k++) {
            int band = bands[k];
            int bank = csm.getBankIndices()[band];
            int offset = buffer.getOffsets()[bank] + csm.getBandOffsets()[band];
            int bits = csm.getSampleSize(band);
            float scale = weights[k] / ((1 << bits) - 1);
            boolean first = k == 0;
            if (buffer instanceof DataBufferByte bytes) {
                // One 8-bit gray band takes k / 255f, the floats of the PNG routes (PngGray, libpng: Plane.of8), not
                // k · (1 / 255f), which differs in the last bit for half the values: a file must decode to the same
                // floats whichever reader takes it (found by fuzzing: a PNG only the Java reader would read).
                float[] values = new float[256];
                for (int v = 0; v < values.length; v++) {
                    values[v] = bands.length == 1 && bits == 8 && weights[k] == 1f ? v / 255f : v * scale;
                }
                accumulateBytes(bytes.getData(bank), offset, pixelStride, scanlineStride, w, h, values, first, out);
            } else {
                accumulateShorts(((DataBufferUShort) buffer).getData(bank), offset, pixelStride, scanlineStride, w, h, scale, first, out);
            }
        }
        // Depths below the container size (12-bit in 16-bit) can carry out-of-range garbage bits.
        for (int i = 0; i < out.length; i++) {
            if (out[i] > 1f) {
                out[i] = 1f;
            }
        }
        return out;
    }

    private static void accumulateBytes(byte[] data, int offset, int pixelStride, int scanlineStride, int w, int h,
                                        float[] values, boolean first, float[] out) {
        for (int y = 0, i = 0; y < h; y++) {
            int p = offset + y * scanlineStride;
            if (first) {
                for (int x = 0; x < w; x++, i++, p += pixelStride) {
                    out[i] = values[data[p] & 0xFF];
                }
            } else {
                for (int x = 0; x < w; x++, i++, p += pixelStride) {
                    out[i] += values[data[p] & 0xFF];
                }
            }
        }
    }

    private static void accumulateShorts(short[] data, int offset, int pixelStride, int scanlineStride, int w, int h,
                                         float scale, boolean first, float[] out) {
        for (int y = 0, i = 0; y < h; y++) {
            int p = offset + y * scanlineStride;
            if (first) {
                for (int x = 0; x < w; x++, i++, p += pixelStride) {
                    out[i] = (data[p] & 0xFFFF) * scale;
                }
            } else {
                for (int x = 0; x < w; x++, i++, p += pixelStride) {
                    out[i] += (data[p] & 0xFFFF) * scale;
                }
            }
        }
    }

    /** Palette indices (any packing) through a luma lookup table. */
    private static float[] fromPalette(Raster raster, IndexColorModel icm) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        float[] lut = new float[icm.getMapSize()];
        for (int i = 0; i < lut.length; i++) {
            lut[i] = (LUMA_R * icm.getRed(i) + LUMA_G * icm.getGreen(i) + LUMA_B * icm.getBlue(i)) / 255f;
        }
        float[] out = new float[w * h];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 0, row);
            for (int x = 0; x < w; x++) {
                int index = row[x];
                out[y * w + x] = index < lut.length ? lut[index] : 0f;
            }
        }
        return out;
    }

    /** Fallback for unusual colour models (CMYK, packed ints, float samples): 8-bit sRGB rows, then luma. */
    private static float[] viaRgbRows(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        float[] out = new float[w * h];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int argb = row[x];
                out[y * w + x] = (LUMA_R * ((argb >> 16) & 0xFF) + LUMA_G * ((argb >> 8) & 0xFF) + LUMA_B * (argb & 0xFF)) / 255f;
            }
        }
        return out;
    }
}
