package org.cxrtriage.imaging;

/**
 * A box-averaged small copy of an image for analyses that do not need every pixel (border detection,
 * levels, blank check): a 4280×3520 image costs 15 M pixel visits per pass, its thumbnail 0.5 M.
 * Thumbnail pixel {@code (tx, ty)} is the mean of original block
 * {@code [tx·factor, (tx+1)·factor) × [ty·factor, (ty+1)·factor)}.
 */
record Thumbnail(float[] pixels, int width, int height, int factor, int originalWidth, int originalHeight) {
    /** Thumbnails are at most this many pixels on their longest side. */
    static final int MAX_SIDE = 512;

    static Thumbnail of(GrayImage image) {
        return of(Plane.of(image));
    }

    static Thumbnail of(Plane image) {
        int w = image.width;
        int h = image.height;
        int factor = Math.max(1, BoxDownscale.outputSize(Math.max(w, h), MAX_SIDE));
        if (factor == 1) {
            return new Thumbnail(image.toGray().pixels(), w, h, 1, w, h);
        }
        float[] small = BoxDownscale.mean(image, CropBox.full(w, h), factor);
        return new Thumbnail(small, BoxDownscale.outputSize(w, factor), BoxDownscale.outputSize(h, factor), factor, w, h);
    }

    CropBox full() {
        return CropBox.full(width, height);
    }

    /** The thumbnail blocks that overlap a box in original coordinates. */
    CropBox toThumbnail(CropBox box) {
        int x0 = box.x() / factor;
        int y0 = box.y() / factor;
        int x1 = BoxDownscale.outputSize(box.right(), factor);
        int y1 = BoxDownscale.outputSize(box.bottom(), factor);
        return new CropBox(x0, y0, x1 - x0, y1 - y0);
    }

    /** The original pixels covered by a box of thumbnail blocks. */
    CropBox toOriginal(CropBox box) {
        int x0 = box.x() * factor;
        int y0 = box.y() * factor;
        int x1 = Math.min(box.right() * factor, originalWidth);
        int y1 = Math.min(box.bottom() * factor, originalHeight);
        return new CropBox(x0, y0, x1 - x0, y1 - y0);
    }
}
