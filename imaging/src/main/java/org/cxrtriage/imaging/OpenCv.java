package org.cxrtriage.imaging;

import java.util.ArrayList;
import java.util.List;
import org.opencv.core.CvType;
import org.opencv.core.Mat;

/**
 * OpenCV native loading and conversions between Java arrays and {@link Mat}s.
 *
 * <p>The natives are loaded once, by this class's initialiser, which the JVM runs exactly once and
 * thread-safely; every class that creates Mats calls {@link #load()} first.
 */
final class OpenCv {
    static {
        // Extracts the bundled native library for this OS/arch to a temp dir and System.load()s it.
        nu.pattern.OpenCV.loadLocally();
    }

    private OpenCv() {
    }

    /** Ensures the natives are loaded (by triggering this class's initialiser). */
    static void load() {
        // Intentionally empty: calling it initialises the class.
    }

    /** A CV_32FC1 copy (calling any method of this class loads the natives first). */
    static Mat toMat(GrayImage image) {
        Mat m = new Mat(image.height(), image.width(), CvType.CV_32FC1);
        m.put(0, 0, image.pixels());
        return m;
    }

    static Mat toMat8(byte[] samples, int width, int height) {
        Mat m = new Mat(height, width, CvType.CV_8UC1);
        m.put(0, 0, samples);
        return m;
    }

    /** Bulk copy of a single-channel 8-bit Mat. */
    static byte[] bytes(Mat m8u) {
        requireType(m8u, CvType.CV_8UC1);
        Mat c = m8u.isContinuous() ? m8u : m8u.clone();
        byte[] out = new byte[(int) c.total()];
        c.get(0, 0, out);
        if (c != m8u) {
            c.release();
        }
        return out;
    }

    /** Bulk copy of a single-channel float Mat. */
    static float[] floats(Mat m32f) {
        requireType(m32f, CvType.CV_32FC1);
        Mat c = m32f.isContinuous() ? m32f : m32f.clone();
        float[] out = new float[(int) c.total()];
        c.get(0, 0, out);
        if (c != m32f) {
            c.release();
        }
        return out;
    }

    /** A float GrayImage from a single-channel 8-bit Mat (0..255 to 0..1). */
    static GrayImage toGray8(Mat m8u) {
        return GrayImage.fromUint8(m8u.cols(), m8u.rows(), bytes(m8u));
    }

    /** Quantises [0, 1] floats to 8 bits (rounded, saturated), the depth every later step works in. */
    static Mat toMat8(GrayImage image) {
        Mat f = toMat(image);
        Mat m = new Mat();
        f.convertTo(m, CvType.CV_8UC1, 255.0, 0.0);
        f.release();
        return m;
    }

    private static void requireType(Mat m, int type) {
        if (m.type() != type) {
            throw new IllegalArgumentException("expected Mat type " + CvType.typeToString(type) + " but got " + CvType.typeToString(m.type()));
        }
    }

    /**
     * Releases every Mat it was given when closed. Mats hold native memory the GC does not see; releasing
     * promptly keeps a busy stream thread's footprint flat.
     */
    static final class Scope implements AutoCloseable {
        private final List<Mat> mats = new ArrayList<>();

        Scope() {
            load();
        }

        Mat add(Mat m) {
            mats.add(m);
            return m;
        }

        Mat mat() {
            return add(new Mat());
        }

        @Override
        public void close() {
            for (Mat m : mats) {
                m.release();
            }
            mats.clear();
        }
    }
}
