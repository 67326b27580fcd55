package org.cxrtriage.imaging;

import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Decodes the PNGs radiographs come as, 8- or 16-bit grayscale and not interlaced, in Java: the zlib stream is
 * inflated row by row (the JDK's zlib) and each row is unfiltered straight into the sample array, with no
 * intermediate image, no native copy and no float conversion.
 *
 * <p>Why not libpng (through OpenCV) for these: on a ~3000² radiograph nearly every row uses the Paeth filter,
 * and unfiltering Paeth rows one byte at a time is most of libpng's time; the loop here is branch-free and the
 * JIT keeps it in registers, and the samples land in a Java array without the copy out of native memory.
 *
 * <p>Strict on purpose: it returns {@code null} for any other layout and for anything irregular (a bad CRC on a
 * critical chunk, an unknown critical chunk, IDAT chunks that are not consecutive, a zlib error or checksum
 * mismatch, too little or too much image data, an invalid filter type), and the caller then decodes with libpng
 * and ImageIO as before, so every refusal and every oddity keeps the behaviour it had. For a file it accepts, the
 * samples are the lossless PNG samples, identical to libpng's.
 */
final class PngGray {
    /** libpng's default limit on width and height (PNG_USER_WIDTH_MAX / PNG_USER_HEIGHT_MAX). */
    private static final int MAX_SIDE = 1_000_000;
    private static final int IHDR = 0x49484452;
    private static final int IDAT = 0x49444154;
    private static final int IEND = 0x49454E44;

    /**
     * The samples: {@code samples8} for 8-bit images, {@code samples16} (unsigned values) for 16-bit ones.
     */
    record Samples(int width, int height, int depth, byte[] samples8, char[] samples16) {
    }

    private PngGray() {
    }

    /** The samples of an 8- or 16-bit gray, non-interlaced PNG, or null (see the class comment). */
    static Samples decode(byte[] png) {
        if (png.length < 8 + 25 + 12) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(png); // big-endian, as PNG
        if (b.getInt(8) != 13 || b.getInt(12) != IHDR || !crcOk(png, 8, 13)) {
            return null;
        }
        int width = b.getInt(16);
        int height = b.getInt(20);
        int depth = png[24];
        int colourType = png[25];
        if (colourType != 0 || (depth != 8 && depth != 16) || png[26] != 0 || png[27] != 0 || png[28] != 0
                || width <= 0 || height <= 0 || width > MAX_SIDE || height > MAX_SIDE) {
            return null;
        }
        int bpp = depth / 8;
        long rowBytesLong = (long) width * bpp;
        if (rowBytesLong * height > Integer.MAX_VALUE - 16) {
            return null;
        }
        Rows rows = new Rows(width, height, bpp);
        Inflater inflater = new Inflater();
        try {
            int pos = 33;
            boolean seenIdat = false;
            boolean idatDone = false;
            while (true) {
                if (pos + 12 > png.length) {
                    return null;
                }
                int length = b.getInt(pos);
                int type = b.getInt(pos + 4);
                if (length < 0 || length > png.length - pos - 12) {
                    return null;
                }
                if (type == IDAT) {
                    if (idatDone || !crcOk(png, pos, length) || (inflater.finished() && length > 0)) {
                        return null; // IDAT after other chunks, damaged, or data after the end of the stream
                    }
                    seenIdat = true;
                    inflater.setInput(png, pos + 8, length);
                    if (!rows.inflate(inflater)) {
                        return null;
                    }
                } else {
                    if (seenIdat) {
                        idatDone = true;
                    }
                    if (type == IEND) {
                        return crcOk(png, pos, length) && rows.complete() && inflater.finished()
                                && inflater.getRemaining() == 0 ? rows.samples(depth) : null;
                    }
                    if ((png[pos + 4] & 0x20) == 0) {
                        return null; // a critical chunk other than IHDR, IDAT, IEND (PLTE in a gray image, unknown)
                    }
                    // Ancillary chunks (text, gamma, physical size, ...) do not change the samples libpng returns.
                }
                pos += 12 + length;
            }
        } catch (DataFormatException e) {
            return null;
        } finally {
            inflater.end();
        }
    }

    /** CRC of the chunk at {@code pos} (over type and data) against the stored one. */
    private static boolean crcOk(byte[] png, int pos, int length) {
        CRC32 crc = new CRC32();
        crc.update(png, pos + 4, length + 4);
        int at = pos + 8 + length;
        long stored = ((png[at] & 0xFFL) << 24) | ((png[at + 1] & 0xFFL) << 16) | ((png[at + 2] & 0xFFL) << 8)
                | (png[at + 3] & 0xFFL);
        return crc.getValue() == stored;
    }

    /** Row-by-row inflation and unfiltering into one sample array. */
    private static final class Rows {
        private final int height;
        private final int bpp;
        private final int rowBytes;
        /** The filter byte and the filtered bytes of the row being inflated. */
        private final byte[] filtered;
        /** Unfiltered bytes of every row, row after row. */
        private final byte[] out;
        private final byte[] zeros;
        private int filled;
        private int row;

        Rows(int width, int height, int bpp) {
            this.height = height;
            this.bpp = bpp;
            this.rowBytes = width * bpp;
            this.filtered = new byte[rowBytes + 1];
            this.out = new byte[rowBytes * height];
            this.zeros = new byte[rowBytes];
        }

        /**
         * Inflates what the current input holds, unfiltering every completed row; false when the data is wrong
         * (more than the image holds, or a bad filter type).
         */
        boolean inflate(Inflater inflater) throws DataFormatException {
            while (true) {
                if (row == height) {
                    // All rows are there: the rest of the stream must be its end (the checksum), nothing more.
                    return inflater.inflate(filtered, 0, 1) == 0;
                }
                int n = inflater.inflate(filtered, filled, filtered.length - filled);
                filled += n;
                if (filled == filtered.length) {
                    if (!unfilter()) {
                        return false;
                    }
                    filled = 0;
                    row++;
                } else if (n == 0) {
                    return !inflater.needsDictionary();
                }
            }
        }

        boolean complete() {
            return row == height;
        }

        private boolean unfilter() {
            int o = row * rowBytes;
            byte[] prior = row == 0 ? zeros : out;
            int p = row == 0 ? 0 : o - rowBytes;
            byte[] raw = filtered;
            byte[] dst = out;
            int n = rowBytes;
            int bpp = this.bpp;
            switch (raw[0]) {
                case 0 -> System.arraycopy(raw, 1, dst, o, n);
                case 1 -> {
                    System.arraycopy(raw, 1, dst, o, bpp);
                    for (int x = bpp; x < n; x++) {
                        dst[o + x] = (byte) (raw[1 + x] + dst[o + x - bpp]);
                    }
                }
                case 2 -> {
                    for (int x = 0; x < n; x++) {
                        dst[o + x] = (byte) (raw[1 + x] + prior[p + x]);
                    }
                }
                case 3 -> {
                    for (int x = 0; x < bpp; x++) {
                        dst[o + x] = (byte) (raw[1 + x] + ((prior[p + x] & 0xFF) >> 1));
                    }
                    for (int x = bpp; x < n; x++) {
                        dst[o + x] = (byte) (raw[1 + x] + (((dst[o + x - bpp] & 0xFF) + (prior[p + x] & 0xFF)) >> 1));
                    }
                }
                case 4 -> {
                    if (bpp == 1) {
                        paeth1(raw, dst, o, prior, p, n);
                    } else {
                        paeth(raw, dst, o, prior, p, n, bpp);
                    }
                }
                default -> {
                    return false;
                }
            }
            return true;
        }

        /**
         * Paeth for one byte per pixel, without branches: with {@code a} left, {@code b} above, {@code c} above
         * left, the predictor is a if |b − c| ≤ |a − c| and ≤ |a + b − 2c|, else b if |a − c| ≤ |a + b − 2c|,
         * else c (PNG spec, same tie order).
         */
        private static void paeth1(byte[] raw, byte[] dst, int o, byte[] prior, int p, int n) {
            int a = 0;
            int c = 0;
            for (int x = 0; x < n; x++) {
                int b = prior[p + x] & 0xFF;
                int e = b - c;
                int d = a - c;
                int pa = Math.abs(e);
                int pb = Math.abs(d);
                int pc = Math.abs(d + e);
                int notA = ((pb - pa) | (pc - pa)) >> 31;
                int notB = (pc - pb) >> 31;
                int bc = b ^ ((b ^ c) & notB);
                int pred = a ^ ((a ^ bc) & notA);
                a = (raw[1 + x] + pred) & 0xFF;
                dst[o + x] = (byte) a;
                c = b;
            }
        }

        /** Paeth for {@code bpp} bytes per pixel (16-bit samples): the same predictor per byte lane. */
        private static void paeth(byte[] raw, byte[] dst, int o, byte[] prior, int p, int n, int bpp) {
            for (int x = 0; x < n; x++) {
                int b = prior[p + x] & 0xFF;
                int a = x >= bpp ? dst[o + x - bpp] & 0xFF : 0;
                int c = x >= bpp ? prior[p + x - bpp] & 0xFF : 0;
                int e = b - c;
                int d = a - c;
                int pa = Math.abs(e);
                int pb = Math.abs(d);
                int pc = Math.abs(d + e);
                int notA = ((pb - pa) | (pc - pa)) >> 31;
                int notB = (pc - pb) >> 31;
                int bc = b ^ ((b ^ c) & notB);
                int pred = a ^ ((a ^ bc) & notA);
                dst[o + x] = (byte) (raw[1 + x] + pred);
            }
        }

        Samples samples(int depth) {
            int width = rowBytes / bpp;
            if (depth == 8) {
                return new Samples(width, height, 8, out, null);
            }
            char[] s = new char[width * height];
            for (int i = 0, j = 0; i < s.length; i++, j += 2) {
                s[i] = (char) (((out[j] & 0xFF) << 8) | (out[j + 1] & 0xFF));
            }
            return new Samples(width, height, 16, null, s);
        }
    }
}
