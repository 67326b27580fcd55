package org.cxrtriage.imaging;

import org.opencv.core.Mat;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * Resizes images. The paper resizes bilinearly ({@code INTER_LINEAR}), and so do we whenever the scale
 * factor is at most 2: bilinear then still touches every source pixel. For stronger downscales bilinear
 * samples only 4 pixels per output pixel and aliases (noise and fine edges turn into moiré), so we use
 * {@code INTER_AREA}, which averages all covered pixels; at exactly 2× both agree.
 */
public final class Resize {
    private Resize() {
    }

    /** Resizes to {@code size × size}; pad to a square first ({@link SquarePad}) to keep the aspect ratio. */
    public static GrayImage square(GrayImage image, int size) {
        return apply(image, size, size);
    }

    /** Resizes to {@code width × height}. */
    public static GrayImage apply(GrayImage image, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("target size must be positive: " + width + "x" + height);
        }
        try (OpenCv.Scope s = new OpenCv.Scope()) {
            Mat src = s.add(OpenCv.toMat(image));
            Mat dst = s.add(resize(src, width, height));
            return new GrayImage(width, height, OpenCv.floats(dst));
        }
    }

    /** The OpenCV interpolation flag used for a given change of size. */
    static int interpolation(int fromWidth, int fromHeight, int toWidth, int toHeight) {
        boolean strongDownscale = fromWidth > 2 * toWidth || fromHeight > 2 * toHeight;
        return strongDownscale ? Imgproc.INTER_AREA : Imgproc.INTER_LINEAR;
    }

    /** Mat version for the pipeline; returns a new Mat (a copy when the size is unchanged). */
    static Mat resize(Mat src, int width, int height) {
        Mat dst = new Mat(height, width, src.type());
        resizeInto(src, dst);
        return dst;
    }

    /**
     * Resizes {@code src} to fill {@code dst} exactly, writing into its existing memory; {@code dst} may be a
     * region of a larger Mat (this is how the pipeline pads without a second full-size buffer).
     */
    static void resizeInto(Mat src, Mat dst) {
        if (src.size().equals(dst.size())) {
            src.copyTo(dst);
        } else {
            Imgproc.resize(src, dst, dst.size(), 0, 0, interpolation(src.cols(), src.rows(), dst.cols(), dst.rows()));
        }
    }
}
