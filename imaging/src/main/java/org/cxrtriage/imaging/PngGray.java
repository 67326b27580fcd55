package org.cxrtriage.imaging;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p>On large images (from {@value #PIPELINE_MIN_BYTES} sample bytes) the inflate runs on a helper thread while the
 * calling thread unfilters, blocks of rows passing between them; the two halves cost about the same, so with a
 * free core the decode takes little more than half as long. The helpers are a small shared pool
 * ({@code IMAGING_DECODE_HELPERS} threads, default cores − 1, at most 4, 0 = none) without a queue: a decode that
 * finds no idle helper, or whose thread is interrupted, decodes on its own thread. Same samples either way.
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
    /** Filtered bytes handed from the inflate to the unfiltering at a time (whole rows, at least one). */
    private static final int BLOCK_BYTES = 1 << 17;
    /** Blocks in flight between the two threads. */
    private static final int BLOCKS = 4;
    /** Images with fewer sample bytes are decoded on the calling thread alone (a hand-off costs more than it saves). */
    static final long PIPELINE_MIN_BYTES = 1 << 20;
    /** Set by {@code IMAGING_DECODE_HELPERS} (default: cores − 1, at most 4; 0 turns the helpers off). */
    private static final ExecutorService HELPERS = helpers(System.getenv("IMAGING_DECODE_HELPERS"));

    /**
     * The samples: {@code samples8} for 8-bit images, {@code samples16} (unsigned values) for 16-bit ones.
     */
    record Samples(int width, int height, int depth, byte[] samples8, char[] samples16) {
    }

    private PngGray() {
    }

    /** The samples of an 8- or 16-bit gray, non-interlaced PNG, or null (see the class comment). */
    static Samples decode(byte[] png) {
        return decode(png, HELPERS, PIPELINE_MIN_BYTES);
    }

    /**
     * As {@link #decode(byte[])} with a given helper pool (null: none) and size from which the inflate runs on one
     * of its threads while the calling thread unfilters; the samples are the same either way.
     */
    static Samples decode(byte[] png, Executor helpers, long pipelineMinBytes) {
        Layout layout = Layout.scan(png);
        if (layout == null) {
            return null;
        }
        Rows rows = new Rows(layout);
        Boolean ok = helpers != null && (long) layout.rowBytes * layout.height >= pipelineMinBytes
                ? pipelined(png, layout, rows, helpers) : null;
        if (ok == null) {
            rows = new Rows(layout);
            ok = inline(png, layout, rows);
        }
        return ok ? rows.samples() : null;
    }

    /** Inflate and unfilter, block after block, on the calling thread. */
    private static boolean inline(byte[] png, Layout layout, Rows rows) {
        Stream stream = new Stream(png, layout);
        try {
            byte[] block = new byte[layout.blockRows * layout.stride];
            for (int row = 0; row < layout.height; row += layout.blockRows) {
                int n = Math.min(layout.blockRows, layout.height - row);
                if (!stream.fill(block, n * layout.stride) || !rows.unfilter(block, n)) {
                    return false;
                }
            }
            return stream.endsCleanly();
        } catch (DataFormatException e) {
            return false;
        } finally {
            stream.end();
        }
    }

    /**
     * Inflate on a helper thread, unfilter on the calling one, with {@value #BLOCKS} blocks of rows in flight: the
     * two halves of the work take about as long each, so a large radiograph decodes in little more than half the
     * time when a second core is free.
     *
     * @return whether the image decoded, or null when it was not decoded here (no helper thread free, or the
     *         calling thread was interrupted: the interrupt is kept) and should be decoded {@link #inline}
     */
    private static Boolean pipelined(byte[] png, Layout layout, Rows rows, Executor helpers) {
        int blockBytes = layout.blockRows * layout.stride;
        BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BLOCKS);
        BlockingQueue<Block> full = new ArrayBlockingQueue<>(BLOCKS + 1);
        for (int i = 0; i < BLOCKS; i++) {
            free.add(new byte[blockBytes]);
        }
        AtomicBoolean cancelled = new AtomicBoolean();
        CompletableFuture<Boolean> produced = new CompletableFuture<>();
        Runnable producer = () -> {
            Stream stream = new Stream(png, layout);
            boolean ok = false;
            try {
                ok = produce(stream, layout, free, full, cancelled);
            } catch (DataFormatException | InterruptedException | RuntimeException e) {
                ok = false;
            } finally {
                stream.end();
                full.add(Block.END);
                produced.complete(ok);
            }
        };
        try {
            helpers.execute(producer);
        } catch (RejectedExecutionException e) {
            return null; // every helper is busy with another image
        }
        boolean ok = true;
        try {
            for (Block block = full.take(); block != Block.END; block = full.take()) {
                if (ok && !rows.unfilter(block.data, block.rows)) {
                    ok = false;
                    cancelled.set(true);
                }
                free.add(block.data);
            }
        } catch (InterruptedException e) {
            // Let the producer stop, keep the interrupt for the caller, and still decode this image.
            cancelled.set(true);
            Thread.currentThread().interrupt();
            return null;
        }
        return ok && produced.join() && rows.complete();
    }

    /** The producer side of {@link #pipelined}: true when every row was inflated and the stream ended cleanly. */
    private static boolean produce(Stream stream, Layout layout, BlockingQueue<byte[]> free, BlockingQueue<Block> full,
                                   AtomicBoolean cancelled) throws DataFormatException, InterruptedException {
        for (int row = 0; row < layout.height; row += layout.blockRows) {
            byte[] buffer = null;
            while (buffer == null) {
                if (cancelled.get()) {
                    return false;
                }
                buffer = free.poll(50, TimeUnit.MILLISECONDS);
            }
            int n = Math.min(layout.blockRows, layout.height - row);
            if (!stream.fill(buffer, n * layout.stride)) {
                return false;
            }
            full.add(new Block(buffer, n));
        }
        return stream.endsCleanly();
    }

    /** A block of filtered rows (filter byte first in each). */
    private record Block(byte[] data, int rows) {
        static final Block END = new Block(new byte[0], 0);
    }

    private static ExecutorService helpers(String configured) {
        int n = Math.min(4, Runtime.getRuntime().availableProcessors() - 1);
        if (configured != null && !configured.isBlank()) {
            try {
                n = Integer.parseInt(configured.trim());
            } catch (NumberFormatException e) {
                // Read on the first PNG decode, deep inside a stream thread: a typo must not make every decode fail.
                System.getLogger(PngGray.class.getName()).log(System.Logger.Level.WARNING,
                        "IMAGING_DECODE_HELPERS=" + configured + " is not a number of threads; using " + n);
            }
        }
        if (n <= 0) {
            return null;
        }
        AtomicInteger count = new AtomicInteger();
        // No queue: a decode either gets an idle helper at once or decodes on its own thread.
        return new ThreadPoolExecutor(0, n, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "png-inflate-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** What {@link #scan} found: the image layout and where the IDAT data lie. */
    private static final class Layout {
        final int width;
        final int height;
        final int depth;
        final int bpp;
        final int rowBytes;
        final int stride;
        final int blockRows;
        final int[] idatStart;
        final int[] idatLength;

        private Layout(int width, int height, int depth, int[] idatStart, int[] idatLength) {
            this.width = width;
            this.height = height;
            this.depth = depth;
            this.bpp = depth / 8;
            this.rowBytes = width * bpp;
            this.stride = rowBytes + 1;
            this.blockRows = Math.max(1, BLOCK_BYTES / stride);
            this.idatStart = idatStart;
            this.idatLength = idatLength;
        }

        /**
         * Checks the whole chunk structure before any inflating: IHDR of a supported layout, every IDAT, IEND and
         * IHDR CRC, IDAT chunks consecutive, no other critical chunk, IEND present. Null when anything is off.
         */
        static Layout scan(byte[] png) {
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
                    || width <= 0 || height <= 0 || width > MAX_SIDE || height > MAX_SIDE
                    || (long) width * (depth / 8) * height > Integer.MAX_VALUE - 16) {
                return null;
            }
            int[] starts = new int[16];
            int[] lengths = new int[16];
            int chunks = 0;
            boolean idatDone = false;
            int pos = 33;
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
                    if (idatDone || !crcOk(png, pos, length)) {
                        return null; // IDAT after other chunks, or damaged
                    }
                    if (chunks == starts.length) {
                        starts = Arrays.copyOf(starts, chunks * 2);
                        lengths = Arrays.copyOf(lengths, chunks * 2);
                    }
                    starts[chunks] = pos + 8;
                    lengths[chunks] = length;
                    chunks++;
                } else {
                    idatDone = chunks > 0;
                    if (type == IEND) {
                        return crcOk(png, pos, length) && chunks > 0 ? new Layout(width, height, depth,
                                Arrays.copyOf(starts, chunks), Arrays.copyOf(lengths, chunks)) : null;
                    }
                    if ((png[pos + 4] & 0x20) == 0) {
                        return null; // a critical chunk other than IHDR, IDAT, IEND (PLTE in a gray image, unknown)
                    }
                    // Ancillary chunks (text, gamma, physical size, ...) do not change the samples libpng returns.
                }
                pos += 12 + length;
            }
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

    /** The zlib stream over the IDAT chunks, inflated into caller buffers. */
    private static final class Stream {
        private final Inflater inflater = new Inflater();
        private final byte[] png;
        private final Layout layout;
        private int next;

        Stream(byte[] png, Layout layout) {
            this.png = png;
            this.layout = layout;
        }

        /** Fills {@code dst[0, length)} completely; false when the stream ends or stalls first. */
        boolean fill(byte[] dst, int length) throws DataFormatException {
            int filled = 0;
            while (filled < length) {
                int n = inflater.inflate(dst, filled, length - filled);
                filled += n;
                if (n == 0 && !nextInput()) {
                    return false;
                }
            }
            return true;
        }

        /**
         * After the last row: the stream must end right there (its checksum verified by the inflater) with no byte
         * after it, in this IDAT chunk or a later one.
         */
        boolean endsCleanly() throws DataFormatException {
            byte[] one = new byte[1];
            while (!inflater.finished()) {
                if (inflater.inflate(one) > 0) {
                    return false; // more image data than the image holds
                }
                if (!inflater.finished() && !nextInput()) {
                    return false;
                }
            }
            if (inflater.getRemaining() > 0) {
                return false;
            }
            for (int i = next; i < layout.idatLength.length; i++) {
                if (layout.idatLength[i] > 0) {
                    return false;
                }
            }
            return true;
        }

        /** Feeds the next IDAT chunk when the inflater needs input; false when it cannot go on. */
        private boolean nextInput() {
            if (inflater.finished() || inflater.needsDictionary() || !inflater.needsInput()
                    || next == layout.idatStart.length) {
                return false;
            }
            inflater.setInput(png, layout.idatStart[next], layout.idatLength[next]);
            next++;
            return true;
        }

        void end() {
            inflater.end();
        }
    }

    /** Unfiltering into one sample array, row after row. */
    private static final class Rows {
        private final Layout layout;
        /** Unfiltered bytes of every row, row after row. */
        private final byte[] out;
        private final byte[] zeros;
        private int row;

        Rows(Layout layout) {
            this.layout = layout;
            this.out = new byte[layout.rowBytes * layout.height];
            this.zeros = new byte[layout.rowBytes];
        }

        boolean complete() {
            return row == layout.height;
        }

        /** Unfilters {@code n} rows of {@code block}; false on an invalid filter type. */
        boolean unfilter(byte[] block, int n) {
            for (int i = 0; i < n; i++) {
                if (!unfilterRow(block, i * layout.stride)) {
                    return false;
                }
                row++;
            }
            return true;
        }

        private boolean unfilterRow(byte[] raw, int at) {
            int n = layout.rowBytes;
            int bpp = layout.bpp;
            int o = row * n;
            byte[] prior = row == 0 ? zeros : out;
            int p = row == 0 ? 0 : o - n;
            byte[] dst = out;
            int r = at + 1;
            switch (raw[at]) {
                case 0 -> System.arraycopy(raw, r, dst, o, n);
                case 1 -> {
                    System.arraycopy(raw, r, dst, o, bpp);
                    for (int x = bpp; x < n; x++) {
                        dst[o + x] = (byte) (raw[r + x] + dst[o + x - bpp]);
                    }
                }
                case 2 -> {
                    for (int x = 0; x < n; x++) {
                        dst[o + x] = (byte) (raw[r + x] + prior[p + x]);
                    }
                }
                case 3 -> {
                    for (int x = 0; x < bpp; x++) {
                        dst[o + x] = (byte) (raw[r + x] + ((prior[p + x] & 0xFF) >> 1));
                    }
                    for (int x = bpp; x < n; x++) {
                        dst[o + x] = (byte) (raw[r + x] + (((dst[o + x - bpp] & 0xFF) + (prior[p + x] & 0xFF)) >> 1));
                    }
                }
                case 4 -> {
                    if (bpp == 1) {
                        paeth1(raw, r, dst, o, prior, p, n);
                    } else {
                        paeth(raw, r, dst, o, prior, p, n, bpp);
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
        private static void paeth1(byte[] raw, int r, byte[] dst, int o, byte[] prior, int p, int n) {
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
                a = (raw[r + x] + pred) & 0xFF;
                dst[o + x] = (byte) a;
                c = b;
            }
        }

        /** Paeth for {@code bpp} bytes per pixel (16-bit samples): the same predictor per byte lane. */
        private static void paeth(byte[] raw, int r, byte[] dst, int o, byte[] prior, int p, int n, int bpp) {
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
                dst[o + x] = (byte) (raw[r + x] + pred);
            }
        }

        Samples samples() {
            if (layout.depth == 8) {
                return new Samples(layout.width, layout.height, 8, out, null);
            }
            char[] s = new char[layout.width * layout.height];
            for (int i = 0, j = 0; i < s.length; i++, j += 2) {
                s[i] = (char) (((out[j] & 0xFF) << 8) | (out[j + 1] & 0xFF));
            }
            return new Samples(layout.width, layout.height, 16, null, s);
        }
    }
}
