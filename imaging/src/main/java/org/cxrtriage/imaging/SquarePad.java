package org.cxrtriage.imaging;

/**
 * Pads an image to a square with black (0), centred, so that the later resize keeps the aspect ratio
 * instead of stretching anatomy. When the difference is odd the extra pixel goes to the right/bottom.
 */
public final class SquarePad {
    private SquarePad() {
    }

    /** A {@code max(w, h)}-sided square with the image centred on black. */
    public static GrayImage apply(GrayImage image) {
        CropBox at = placement(image.width(), image.height());
        int side = Math.max(image.width(), image.height());
        float[] out = new float[side * side];
        for (int y = 0; y < image.height(); y++) {
            System.arraycopy(image.pixels(), y * image.width(), out, (at.y() + y) * side + at.x(), image.width());
        }
        return new GrayImage(side, side, out);
    }

    /** Where a {@code width × height} image lands inside its padded square. */
    public static CropBox placement(int width, int height) {
        int side = Math.max(width, height);
        return new CropBox((side - width) / 2, (side - height) / 2, width, height);
    }
}
