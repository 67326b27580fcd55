package org.cxrtriage.imaging;

import java.util.Locale;
import java.util.Objects;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Rect;

/**
 * Turns an encoded chest X-ray into the model's CXR plane, following Goldstein et al. 2020:
 * decode → crop borders and text → pad to square → CLAHE → standardise brightness → resize.
 *
 * <p>Concretely, for a configured output {@code size}:
 * <ol>
 *   <li>{@link ImageDecoder decode} to [0, 1] values (read from the decoded samples through a {@link Plane}, the
 *       same floats {@link ImageDecoder#decode} returns); reject near-constant images ({@link RejectReason#BLANK}).</li>
 *   <li>{@link BorderCrop} finds the radiograph.</li>
 *   <li>The crop is brought to a working size whose longer side is {@code size × workingScale} (never above the
 *       crop itself): box-averaged by an integer factor in Java (see {@code BoxDownscale} for why not OpenCV),
 *       windowed to its own 0.5–99.5 % levels and quantised to 8 bits, then resized by OpenCV straight into the
 *       centred region of a black square. Doing this before CLAHE is what keeps large inputs fast; on real
 *       radiographs it moves the output by about one gray level on average.</li>
 *   <li>{@link Clahe} on the square, {@link BrightnessStandardiser} (statistics over the unpadded part; padding
 *       reset to 0), then a bilinear {@link Resize} to {@code size × size}.</li>
 * </ol>
 *
 * <p>Immutable and thread-safe; every call allocates its own buffers and releases its native memory.
 * Lateral views are not detected here (the ingest metadata carries the view position).
 */
public final class Preprocessor {
    /**
     * An image whose 0.5–99.5 % levels are closer than this (about one 8-bit level) carries no picture.
     * Deliberately not larger: 10-bit data stored unscaled in 16 bits spans only 0.016 of the range.
     */
    static final float BLANK_SPREAD = 0.004f;

    private final PreprocessConfig config;

    public Preprocessor(PreprocessConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    public PreprocessConfig config() {
        return config;
    }

    /**
     * Decodes and normalises one image.
     *
     * @throws InvalidImageException any decode rejection, or BLANK
     */
    public PreprocessedImage process(byte[] encoded) throws InvalidImageException {
        long start = System.nanoTime();
        // The decoded samples as a plane: the normalisation reads exactly the floats ImageDecoder.decode would
        // return, without that float image being made (see Plane).
        Plane image = ImageDecoder.decodePlane(encoded, config.limits());
        double decodeMs = (System.nanoTime() - start) / 1e6;
        return normalise(image, decodeMs);
    }

    /**
     * Normalises an already decoded image (e.g. an augmented one in training); {@code decodeMs} is 0.
     *
     * @throws InvalidImageException BLANK
     */
    public PreprocessedImage process(GrayImage image) throws InvalidImageException {
        return normalise(Plane.of(Objects.requireNonNull(image, "image")), 0.0);
    }

    private PreprocessedImage normalise(Plane image, double decodeMs) {
        long start = System.nanoTime();
        int size = config.size();
        Thumbnail thumb = Thumbnail.of(image);
        requireNotBlank(thumb, thumb.full(), "image");
        CropBox crop = BorderCrop.find(thumb);
        float[] window = requireNotBlank(thumb, thumb.toThumbnail(crop), "cropped region");

        Geometry g = geometry(crop);
        int working = g.working();
        int ww = g.placement().width();
        int wh = g.placement().height();
        CropBox placement = g.placement();
        int side = Math.max(crop.width(), crop.height());
        // Box-average by the largest integer factor that stays at or above the working size (in Java, see
        // BoxDownscale); windowing to the content's own levels there makes every source use all 256 levels.
        int factor = Math.max(1, side / working);
        byte[] reduced = BoxDownscale.mean8(image, crop, factor, window[0], window[1]);

        try (OpenCv.Scope s = new OpenCv.Scope()) {
            Mat boxed = s.add(OpenCv.toMat8(reduced, BoxDownscale.outputSize(crop.width(), factor),
                    BoxDownscale.outputSize(crop.height(), factor)));
            // Pad by resizing straight into the centred region of a black square.
            Mat square = s.add(Mat.zeros(working, working, CvType.CV_8UC1));
            Resize.resizeInto(boxed, s.add(square.submat(new Rect(placement.x(), placement.y(), ww, wh))));
            Clahe.apply(square, square, config.claheClipLimit(), config.claheTiles());
            BrightnessStandardiser.applyInPlace(square, placement);
            Mat out = s.add(Resize.resize(square, size, size));
            byte[] cxr = OpenCv.bytes(out);

            double normaliseMs = (System.nanoTime() - start) / 1e6;
            return new PreprocessedImage(size, cxr, crop, image.width, image.height, decodeMs, normaliseMs);
        }
    }

    /**
     * Where the crop lands: the side of the working square and the crop's placement (scaled size, centred) in it.
     * Shared by {@link #process} and {@link #alignToPlane} so that masks follow the image exactly.
     */
    private record Geometry(int working, CropBox placement) {
    }

    private Geometry geometry(CropBox crop) {
        // Size of the crop at working resolution. When we downscale anyway, make the square a multiple of the
        // CLAHE grid, which spares OpenCV an internal padded copy.
        int size = config.size();
        int side = Math.max(crop.width(), crop.height());
        int working = (int) Math.min(side, Math.max(size, Math.round(size * config.workingScale())));
        if (working < side && working > config.claheTiles()) {
            working -= working % config.claheTiles();
        }
        double f = working / (double) side;
        int ww = Math.min(working, Math.max(1, (int) Math.round(crop.width() * f)));
        int wh = Math.min(working, Math.max(1, (int) Math.round(crop.height() * f)));
        return new Geometry(working, SquarePad.placement(ww, wh));
    }

    /**
     * Applies the geometry of a {@link #process} result (crop, scale, centred padding, final resize) to another
     * plane of the same original image, e.g. a lung mask, without any intensity step: the output is aligned
     * pixel for pixel with {@code result.cxr()}. Samples are interpolated (a 0/1 mask becomes soft at its edges;
     * threshold at 0.5 for a binary one); padding is 0.
     *
     * @param plane  same width and height as the original that produced {@code result}, values in [0, 1]
     * @return {@code size × size} uint8 samples, {@code round(v × 255)}
     */
    public byte[] alignToPlane(GrayImage plane, PreprocessedImage result) {
        Objects.requireNonNull(plane, "plane");
        if (plane.width() != result.originalWidth() || plane.height() != result.originalHeight()) {
            throw new IllegalArgumentException("plane is " + plane.width() + "x" + plane.height() + " but the image was "
                    + result.originalWidth() + "x" + result.originalHeight());
        }
        if (result.size() != config.size()) {
            throw new IllegalArgumentException("result was made at size " + result.size() + ", this preprocessor makes "
                    + config.size());
        }
        Geometry g = geometry(result.crop());
        CropBox at = g.placement();
        GrayImage scaled = Resize.apply(plane.crop(result.crop()), at.width(), at.height());
        float[] square = new float[g.working() * g.working()];
        for (int y = 0; y < at.height(); y++) {
            System.arraycopy(scaled.pixels(), y * at.width(), square, (at.y() + y) * g.working() + at.x(), at.width());
        }
        return Resize.square(new GrayImage(g.working(), g.working(), square), config.size()).toUint8();
    }

    private static float[] requireNotBlank(Thumbnail thumb, CropBox box, String what) {
        float[] levels = Levels.percentiles(thumb.pixels(), thumb.width(), box, 0.005, 0.995);
        if (levels[1] - levels[0] < BLANK_SPREAD) {
            throw new InvalidImageException(RejectReason.BLANK, String.format(Locale.ROOT,
                    "%s is nearly constant (0.5-99.5%% levels %.4f..%.4f)", what, levels[0], levels[1]));
        }
        return levels;
    }
}
