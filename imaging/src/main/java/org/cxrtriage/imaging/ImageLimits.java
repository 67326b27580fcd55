package org.cxrtriage.imaging;

/**
 * Size limits checked before any pixel is decoded.
 *
 * @param maxBytes  largest accepted encoded size in bytes
 * @param maxPixels largest accepted declared {@code width * height}; guards against decompression bombs
 *                  (a few KiB of PNG can declare gigapixels)
 * @param minSide   smallest accepted width or height in pixels
 */
public record ImageLimits(long maxBytes, long maxPixels, int minSide) {
    /** 32 MiB: a 4280×3520 16-bit PNG is about 20 MiB. */
    public static final long DEFAULT_MAX_BYTES = 32L * 1024 * 1024;
    /** 50 megapixels: well above the largest detector (about 4300×4300 = 18.5 M). */
    public static final long DEFAULT_MAX_PIXELS = 50_000_000L;
    /** Below 64 px a chest radiograph carries nothing the model could use. */
    public static final int DEFAULT_MIN_SIDE = 64;

    public ImageLimits {
        if (maxBytes <= 0 || maxPixels <= 0 || minSide <= 0) {
            throw new IllegalArgumentException("limits must be positive: " + maxBytes + ", " + maxPixels + ", " + minSide);
        }
    }

    public static ImageLimits defaults() {
        return new ImageLimits(DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, DEFAULT_MIN_SIDE);
    }
}
