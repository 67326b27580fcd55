package org.cxrtriage.imaging;

/**
 * An axis-aligned rectangle in pixel coordinates of some image: {@code [x, x + width) × [y, y + height)}.
 */
public record CropBox(int x, int y, int width, int height) {
    public CropBox {
        if (x < 0 || y < 0 || width <= 0 || height <= 0) {
            throw new IllegalArgumentException("invalid crop box " + x + "," + y + " " + width + "x" + height);
        }
    }

    /** The box covering a whole {@code width × height} image. */
    public static CropBox full(int width, int height) {
        return new CropBox(0, 0, width, height);
    }

    /** Exclusive right edge. */
    public int right() {
        return x + width;
    }

    /** Exclusive bottom edge. */
    public int bottom() {
        return y + height;
    }

    public boolean fitsIn(int imageWidth, int imageHeight) {
        return right() <= imageWidth && bottom() <= imageHeight;
    }
}
