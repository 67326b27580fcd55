package org.cxrtriage.imaging;

import java.util.Objects;

/**
 * A single-channel image with values in {@code [0, 1]}, row-major ({@code pixels[y * width + x]}).
 *
 * <p>Floats keep 16-bit detail and make every source depth look the same to the normalisation steps.
 * The array is shared, not copied (images are large); treat it as read-only once constructed. Like every
 * record holding an array, {@code equals} compares the array by identity.
 */
public record GrayImage(int width, int height, float[] pixels) {
    public GrayImage {
        Objects.requireNonNull(pixels, "pixels");
        if (width <= 0 || height <= 0 || (long) width * height != pixels.length) {
            throw new IllegalArgumentException("pixels.length " + pixels.length + " does not match " + width + "x" + height);
        }
    }

    /** An image from 8-bit samples (0..255 mapped to 0..1). */
    public static GrayImage fromUint8(int width, int height, byte[] samples) {
        float[] p = new float[samples.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = (samples[i] & 0xFF) / 255f;
        }
        return new GrayImage(width, height, p);
    }

    public float get(int x, int y) {
        return pixels[y * width + x];
    }

    /** Samples rounded to 0..255 (values outside [0, 1] are clipped). */
    public byte[] toUint8() {
        byte[] out = new byte[pixels.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Math.round(Math.min(1f, Math.max(0f, pixels[i])) * 255f);
        }
        return out;
    }

    /** A copy of the region inside {@code box}. */
    public GrayImage crop(CropBox box) {
        if (!box.fitsIn(width, height)) {
            throw new IllegalArgumentException(box + " outside " + width + "x" + height);
        }
        float[] out = new float[box.width() * box.height()];
        for (int row = 0; row < box.height(); row++) {
            System.arraycopy(pixels, (box.y() + row) * width + box.x(), out, row * box.width(), box.width());
        }
        return new GrayImage(box.width(), box.height(), out);
    }

    @Override
    public String toString() {
        return "GrayImage[" + width + "x" + height + "]";
    }
}
