package org.cxrtriage.imaging;

/**
 * Decoded pixels as the normalisation reads them: row segments of exactly the float values in [0, 1] that the
 * {@link GrayImage} of {@link ImageDecoder#decode} holds, without that float image having to exist.
 *
 * <p>Why: on a ~3000² radiograph the float image is 34 MB that is written once and read twice (thumbnail, then the
 * box reduction of the crop); writing it and faulting its pages in cost about as much as both reads. The sources
 * are 8- or 16-bit samples (or DICOM stored values), so a plane keeps those and maps each one through a lookup
 * table whose entries are the very floats the image would hold. Sums over a plane therefore add the same floats in
 * the same order as sums over the image: results are bit-identical, whichever way an image comes in.
 */
abstract class Plane {
    /** {@code k / 255f} for k = 0..255: the values of 8-bit samples, as {@link GrayImage#fromUint8} computes them. */
    private static final float[] UNIT8 = new float[256];

    static {
        for (int k = 0; k < 256; k++) {
            UNIT8[k] = k / 255f;
        }
    }

    final int width;
    final int height;

    Plane(int width, int height) {
        this.width = width;
        this.height = height;
    }

    /** {@code dst[k] = value(x0 + k, y)} for {@code k < n}. */
    abstract void copyRow(int y, int x0, int n, float[] dst);

    /** {@code dst[k] += value(x0 + k, y)} for {@code k < n}. */
    abstract void addRow(int y, int x0, int n, float[] dst);

    /** The whole image as floats: equal to what {@link ImageDecoder#decode} returns for the same input. */
    GrayImage toGray() {
        float[] out = new float[width * height];
        float[] row = new float[width];
        for (int y = 0; y < height; y++) {
            copyRow(y, 0, width, row);
            System.arraycopy(row, 0, out, y * width, width);
        }
        return new GrayImage(width, height, out);
    }

    /** A decoded image as a plane (no copy). */
    static Plane of(GrayImage image) {
        return new Floats(image);
    }

    /** 8-bit samples, {@code value = (s & 0xFF) / 255f} (no copy). */
    static Plane of8(int width, int height, byte[] samples) {
        return new Bytes(width, height, samples);
    }

    /** 16-bit samples, {@code value = s · (float) (1 / 65535.0)}, as {@link ImageDecoder#scale16} (no copy). */
    static Plane of16(int width, int height, char[] samples) {
        return new Chars(width, height, samples);
    }

    private static final class Floats extends Plane {
        private final GrayImage image;
        private final float[] p;

        Floats(GrayImage image) {
            super(image.width(), image.height());
            this.image = image;
            this.p = image.pixels();
        }

        @Override
        void copyRow(int y, int x0, int n, float[] dst) {
            System.arraycopy(p, y * width + x0, dst, 0, n);
        }

        @Override
        void addRow(int y, int x0, int n, float[] dst) {
            float[] p = this.p;
            int base = y * width + x0;
            for (int k = 0; k < n; k++) {
                dst[k] += p[base + k];
            }
        }

        @Override
        GrayImage toGray() {
            return image;
        }
    }

    private static final class Bytes extends Plane {
        private final byte[] s;

        Bytes(int width, int height, byte[] samples) {
            super(width, height);
            if ((long) width * height != samples.length) {
                throw new IllegalArgumentException(samples.length + " samples for " + width + "x" + height);
            }
            this.s = samples;
        }

        @Override
        void copyRow(int y, int x0, int n, float[] dst) {
            byte[] s = this.s;
            float[] lut = UNIT8;
            int base = y * width + x0;
            for (int k = 0; k < n; k++) {
                dst[k] = lut[s[base + k] & 0xFF];
            }
        }

        @Override
        void addRow(int y, int x0, int n, float[] dst) {
            byte[] s = this.s;
            float[] lut = UNIT8;
            int base = y * width + x0;
            for (int k = 0; k < n; k++) {
                dst[k] += lut[s[base + k] & 0xFF];
            }
        }

        @Override
        GrayImage toGray() {
            return GrayImage.fromUint8(width, height, s);
        }
    }

    private static final class Chars extends Plane {
        private static final float[] UNIT16 = new float[65536];

        static {
            float scale = (float) (1.0 / 65535.0);
            for (int k = 0; k < 65536; k++) {
                UNIT16[k] = k * scale;
            }
        }

        private final char[] s;

        Chars(int width, int height, char[] samples) {
            super(width, height);
            if ((long) width * height != samples.length) {
                throw new IllegalArgumentException(samples.length + " samples for " + width + "x" + height);
            }
            this.s = samples;
        }

        @Override
        void copyRow(int y, int x0, int n, float[] dst) {
            char[] s = this.s;
            float[] lut = UNIT16;
            int base = y * width + x0;
            for (int k = 0; k < n; k++) {
                dst[k] = lut[s[base + k]];
            }
        }

        @Override
        void addRow(int y, int x0, int n, float[] dst) {
            char[] s = this.s;
            float[] lut = UNIT16;
            int base = y * width + x0;
            for (int k = 0; k < n; k++) {
                dst[k] += lut[s[base + k]];
            }
        }

        @Override
        GrayImage toGray() {
            return new GrayImage(width, height, ImageDecoder.scale16(s));
        }
    }
}
