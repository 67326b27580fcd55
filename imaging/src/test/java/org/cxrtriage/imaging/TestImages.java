package org.cxrtriage.imaging;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/** Synthetic test images, generated in code (real X-rays are never committed). */
final class TestImages {
    private TestImages() {
    }

    /** A smooth, textured "radiograph": values in roughly [0.2, 0.9], deterministic per seed. */
    static float textured(int x, int y, long seed) {
        double v = 0.55 + 0.2 * Math.sin(x * 0.07 + seed) * Math.cos(y * 0.05) + 0.1 * Math.sin((x + 2 * y) * 0.21);
        return (float) Math.max(0.0, Math.min(1.0, v));
    }

    /**
     * A {@code w × h} image that is {@code background} everywhere except a textured radiograph in {@code box}.
     */
    static GrayImage framed(int w, int h, CropBox box, float background) {
        float[] p = new float[w * h];
        Arrays.fill(p, background);
        for (int y = box.y(); y < box.bottom(); y++) {
            for (int x = box.x(); x < box.right(); x++) {
                p[y * w + x] = textured(x, y, 1);
            }
        }
        return new GrayImage(w, h, p);
    }

    /** Fills a rectangle with a value (e.g. burned-in text strokes). */
    static void fill(GrayImage image, int x0, int y0, int w, int h, float value) {
        for (int y = y0; y < y0 + h; y++) {
            Arrays.fill(image.pixels(), y * image.width() + x0, y * image.width() + x0 + w, value);
        }
    }

    /**
     * A chest phantom: dark outside, a bright body ellipse, two dark lung ellipses and a bright mediastinum,
     * with mild deterministic noise.
     */
    static GrayImage chestPhantom(int n) {
        float[] p = new float[n * n];
        Random random = new Random(42);
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                double u = (x + 0.5) / n;
                double v = (y + 0.5) / n;
                double value = 0.08;
                if (inEllipse(u, v, 0.5, 0.55, 0.46, 0.5)) {
                    value = 0.75;
                }
                if (inEllipse(u, v, 0.30, 0.45, 0.13, 0.28) || inEllipse(u, v, 0.70, 0.45, 0.13, 0.28)) {
                    value = 0.3;
                }
                p[y * n + x] = (float) Math.max(0, Math.min(1, value + 0.03 * random.nextGaussian()));
            }
        }
        return new GrayImage(n, n, p);
    }

    private static boolean inEllipse(double u, double v, double cu, double cv, double ru, double rv) {
        double du = (u - cu) / ru;
        double dv = (v - cv) / rv;
        return du * du + dv * dv <= 1.0;
    }

    static BufferedImage gray8(GrayImage image) {
        BufferedImage b = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_BYTE_GRAY);
        b.getRaster().setDataElements(0, 0, image.width(), image.height(), image.toUint8());
        return b;
    }

    static BufferedImage gray16(GrayImage image) {
        BufferedImage b = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_USHORT_GRAY);
        short[] s = new short[image.pixels().length];
        for (int i = 0; i < s.length; i++) {
            s[i] = (short) Math.round(image.pixels()[i] * 65535f);
        }
        b.getRaster().setDataElements(0, 0, image.width(), image.height(), s);
        return b;
    }

    /** RGB with all three channels equal to the gray value. */
    static BufferedImage rgb(GrayImage image) {
        BufferedImage b = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_3BYTE_BGR);
        byte[] g = image.toUint8();
        byte[] data = new byte[g.length * 3];
        for (int i = 0; i < g.length; i++) {
            data[3 * i] = g[i];
            data[3 * i + 1] = g[i];
            data[3 * i + 2] = g[i];
        }
        b.getRaster().setDataElements(0, 0, image.width(), image.height(), data);
        return b;
    }

    /** A 256-entry gray palette image. */
    static BufferedImage palette(GrayImage image) {
        byte[] ramp = new byte[256];
        for (int i = 0; i < 256; i++) {
            ramp[i] = (byte) i;
        }
        IndexColorModel cm = new IndexColorModel(8, 256, ramp, ramp, ramp);
        BufferedImage b = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_BYTE_INDEXED, cm);
        b.getRaster().setDataElements(0, 0, image.width(), image.height(), image.toUint8());
        return b;
    }

    static byte[] encode(BufferedImage image, String format) {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            if (!ImageIO.write(image, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] png(GrayImage image) {
        return encode(gray8(image), "png");
    }

    /**
     * A syntactically valid PNG whose IHDR declares {@code width × height} 8-bit gray (with a correct CRC), followed
     * by an empty IDAT and IEND: a decompression-bomb header with no pixel data behind it.
     */
    static byte[] pngHeaderOnly(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        chunk(out, "IHDR", ihdr.array());
        chunk(out, "IDAT", new byte[0]);
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(typeBytes);
        out.writeBytes(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    static double mean(byte[] samples) {
        double sum = 0;
        for (byte b : samples) {
            sum += b & 0xFF;
        }
        return sum / samples.length;
    }
}
