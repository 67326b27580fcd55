package org.cxrtriage.imaging;

import java.lang.ref.Reference;
import org.opencv.core.Mat;
import org.opencv.core.Size;
import org.opencv.imgproc.CLAHE;
import org.opencv.imgproc.Imgproc;

/**
 * Contrast-limited adaptive histogram equalisation (OpenCV), as in Goldstein et al. 2020.
 *
 * <p><b>Why 8-bit.</b> OpenCV's 16-bit CLAHE uses 65536 histogram bins and scales the clip limit by the bin
 * count. An 8-bit source promoted to 16 bits then occupies only 256 bins, each far above the clip, so nearly
 * everything is redistributed and CLAHE almost does nothing; a true 16-bit source with a smooth histogram is
 * equalised strongly. The same clip limit would treat images differently by source bit depth, which is a
 * shortcut a model can learn (see the data README on source confounding). At 8 bits, after each image is
 * windowed to its own 0.5–99.5 % levels, every source gets the same treatment; the model input is 8-bit anyway.
 */
public final class Clahe {
    /** The commonly used clip limit; higher values amplify noise in the lung fields. */
    public static final double DEFAULT_CLIP_LIMIT = 2.0;
    /** An 8×8 tile grid. */
    public static final int DEFAULT_TILES = 8;

    private Clahe() {
    }

    /**
     * CLAHE on the image quantised to 8 bits; the result holds 8-bit levels k/255.
     *
     * @param clipLimit contrast limit relative to a flat histogram (OpenCV semantics)
     * @param tiles     tiles per side of the grid
     */
    public static GrayImage apply(GrayImage image, double clipLimit, int tiles) {
        try (OpenCv.Scope s = new OpenCv.Scope()) {
            Mat m = s.add(OpenCv.toMat8(image));
            apply(m, m, clipLimit, tiles);
            return OpenCv.toGray8(m);
        }
    }

    /** CLAHE with the defaults. */
    public static GrayImage apply(GrayImage image) {
        return apply(image, DEFAULT_CLIP_LIMIT, DEFAULT_TILES);
    }

    /** Mat version for the pipeline; {@code src} must be CV_8UC1, {@code dst} may be {@code src}. */
    static void apply(Mat src, Mat dst, double clipLimit, int tiles) {
        if (clipLimit <= 0 || tiles <= 0) {
            throw new IllegalArgumentException("clipLimit and tiles must be positive: " + clipLimit + ", " + tiles);
        }
        // A CLAHE object is cheap and not thread-safe, so each call makes its own.
        CLAHE clahe = Imgproc.createCLAHE(clipLimit, new Size(tiles, tiles));
        try {
            clahe.apply(src, dst);
        } finally {
            // OpenCV's Java objects free their native object in finalize(). Without this fence compiled code holds no
            // reference to the CLAHE while its own native apply runs, so a collection then can finalise it mid-call:
            // SIGSEGV in CLAHE_Interpolation_Body (the preprocess service, 2026-11-27; bench/opencv/
            // ClaheFinalizerRace.java crashes within seconds without it).
            Reference.reachabilityFence(clahe);
        }
    }
}
