package org.cxrtriage.imaging;

/** Robust intensity levels (percentiles) of [0, 1] images from a fixed histogram. */
final class Levels {
    /** 4096 bins resolve 12-bit data stored in 16 bits; finer would only cost time. */
    private static final int BINS = 4096;

    private Levels() {
    }

    /**
     * The {@code low} and {@code high} quantiles of the pixels inside {@code box}, to within 1/4096.
     *
     * @return {@code {lowValue, highValue}}
     */
    static float[] percentiles(float[] pixels, int width, CropBox box, double low, double high) {
        int[] hist = new int[BINS];
        for (int y = box.y(); y < box.bottom(); y++) {
            int row = y * width;
            for (int x = box.x(); x < box.right(); x++) {
                hist[bin(pixels[row + x])]++;
            }
        }
        long total = (long) box.width() * box.height();
        return new float[] {quantile(hist, total, low), quantile(hist, total, high)};
    }

    private static int bin(float v) {
        int b = (int) (v * BINS);
        return b < 0 ? 0 : Math.min(b, BINS - 1);
    }

    private static float quantile(int[] hist, long total, double q) {
        long target = (long) Math.ceil(q * total);
        long seen = 0;
        for (int b = 0; b < BINS; b++) {
            seen += hist[b];
            if (seen >= Math.max(1, target)) {
                return (b + 0.5f) / BINS;
            }
        }
        return 1f;
    }
}
