package org.cxrtriage.imaging;

import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfDouble;
import org.opencv.core.Rect;
import org.opencv.core.Scalar;

/**
 * Standardises brightness so that images from different detectors and processing chains look alike:
 * within the content region (the padding excluded), the mean maps to {@value #TARGET_MEAN} and
 * ±{@value #STD_SPAN} standard deviations to the 8-bit range, clipped: {@code v' = 128 + (v − μ)·127.5/(3σ)}.
 * Padding is reset to 0 so that the model always sees the same black frame.
 *
 * <p>Works on 8-bit levels, the depth of the model input; clipping can move the mean by a level or two on
 * skewed histograms.
 */
public final class BrightnessStandardiser {
    /** Mean of the content region after standardisation, in 8-bit levels. */
    public static final double TARGET_MEAN = 128.0;
    /** Standard deviations mapped onto each half of the 8-bit range. */
    public static final double STD_SPAN = 3.0;

    private BrightnessStandardiser() {
    }

    /**
     * @param image   values in [0, 1] (quantised to 8 bits first)
     * @param content the region that holds the radiograph; everything outside becomes 0
     * @return 8-bit levels k/255, content mean ≈ 128/255
     */
    public static GrayImage apply(GrayImage image, CropBox content) {
        try (OpenCv.Scope s = new OpenCv.Scope()) {
            Mat m = s.add(OpenCv.toMat8(image));
            applyInPlace(m, content);
            return OpenCv.toGray8(m);
        }
    }

    /** Mat version for the pipeline, on a CV_8UC1 Mat. */
    static void applyInPlace(Mat m8u, CropBox content) {
        if (!content.fitsIn(m8u.cols(), m8u.rows())) {
            throw new IllegalArgumentException(content + " outside " + m8u.cols() + "x" + m8u.rows());
        }
        Mat region = m8u.submat(new Rect(content.x(), content.y(), content.width(), content.height()));
        MatOfDouble mean = new MatOfDouble();
        MatOfDouble std = new MatOfDouble();
        try {
            Core.meanStdDev(region, mean, std);
            double mu = mean.toArray()[0];
            double sigma = std.toArray()[0];
            // A constant region has no contrast to standardise: show it at the target mean.
            double alpha = sigma < 1e-6 ? 0.0 : 127.5 / (STD_SPAN * sigma);
            double beta = TARGET_MEAN - mu * alpha;
            region.convertTo(region, CvType.CV_8UC1, alpha, beta); // saturating, rounding
            zeroOutside(m8u, content);
        } finally {
            region.release();
            mean.release();
            std.release();
        }
    }

    private static void zeroOutside(Mat m, CropBox content) {
        int w = m.cols();
        int h = m.rows();
        Scalar black = Scalar.all(0);
        fill(m, new Rect(0, 0, w, content.y()), black);
        fill(m, new Rect(0, content.bottom(), w, h - content.bottom()), black);
        fill(m, new Rect(0, content.y(), content.x(), content.height()), black);
        fill(m, new Rect(content.right(), content.y(), w - content.right(), content.height()), black);
    }

    private static void fill(Mat m, Rect r, Scalar value) {
        if (r.width > 0 && r.height > 0) {
            Mat sub = m.submat(r);
            sub.setTo(value);
            sub.release();
        }
    }
}
