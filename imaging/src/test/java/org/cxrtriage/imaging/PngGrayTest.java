package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/** {@link PngGray} gives libpng's samples, and refuses (null) whatever libpng should judge. */
class PngGrayTest {

    /** A PNG written by hand so that every filter type, chunk split and irregularity can be chosen. */
    static final class Writer {
        int width = 123;
        int height = 77;
        int depth = 8;
        int colourType = 0;
        int interlace = 0;
        /** Filter type of row y: the five types in turn by default. */
        java.util.function.IntUnaryOperator filter = y -> y % 5;
        /** IDAT chunk size (the zlib stream is split into chunks of this many bytes). */
        int idatChunk = 8192;
        /** Extra bytes appended to the filtered data before compression (too much image data). */
        int extraData;
        /** Filtered bytes left out at the end before compression (too little image data). */
        int missingData;
        boolean corruptIdatCrc;
        boolean textChunks = true;
        /** A chunk written between two IDAT chunks (null: none). */
        String betweenIdat;

        /** A deterministic pattern over the whole sample range, with noise so that every filter matters. */
        int sample(int x, int y) {
            int max = (1 << depth) - 1;
            double v = 0.5 + 0.3 * Math.sin(x * 0.11) * Math.cos(y * 0.07) + 0.15 * Math.sin((x * 7 + y * 13) * 0.9);
            return (int) Math.max(0, Math.min(max, Math.round(v * max)));
        }

        byte[] write() {
            return write(this::sample);
        }

        byte[] write(java.util.function.IntBinaryOperator pixel) {
            int bpp = depth / 8;
            int rowBytes = width * bpp;
            byte[] previous = new byte[rowBytes];
            ByteArrayOutputStream filtered = new ByteArrayOutputStream();
            for (int y = 0; y < height; y++) {
                byte[] row = new byte[rowBytes];
                for (int x = 0; x < width; x++) {
                    int v = pixel.applyAsInt(x, y);
                    if (bpp == 2) {
                        row[2 * x] = (byte) (v >> 8);
                        row[2 * x + 1] = (byte) v;
                    } else {
                        row[x] = (byte) v;
                    }
                }
                int f = filter.applyAsInt(y);
                filtered.write(f);
                for (int i = 0; i < rowBytes; i++) {
                    int a = i >= bpp ? row[i - bpp] & 0xFF : 0;
                    int b = previous[i] & 0xFF;
                    int c = i >= bpp ? previous[i - bpp] & 0xFF : 0;
                    int predictor = switch (f) {
                        case 0 -> 0;
                        case 1 -> a;
                        case 2 -> b;
                        case 3 -> (a + b) >> 1;
                        case 4 -> paeth(a, b, c);
                        default -> 0; // an invalid type: bytes as they are
                    };
                    filtered.write((row[i] & 0xFF) - predictor);
                }
                previous = row;
            }
            filtered.writeBytes(new byte[extraData]);
            byte[] data = filtered.toByteArray();
            data = Arrays.copyOf(data, data.length - missingData);
            Deflater deflater = new Deflater(6);
            deflater.setInput(data);
            deflater.finish();
            ByteArrayOutputStream z = new ByteArrayOutputStream();
            byte[] buf = new byte[65536];
            while (!deflater.finished()) {
                z.write(buf, 0, deflater.deflate(buf));
            }
            deflater.end();
            byte[] zlib = z.toByteArray();

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
            chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) depth)
                    .put((byte) colourType).put((byte) 0).put((byte) 0).put((byte) interlace).array(), false);
            if (textChunks) {
                chunk(out, "tEXt", "Software\0PngGrayTest".getBytes(StandardCharsets.ISO_8859_1), false);
            }
            for (int at = 0; at < zlib.length; at += idatChunk) {
                chunk(out, "IDAT", Arrays.copyOfRange(zlib, at, Math.min(zlib.length, at + idatChunk)), corruptIdatCrc);
                if (at == 0 && betweenIdat != null) {
                    chunk(out, betweenIdat, new byte[] {1, 2, 3}, false);
                }
            }
            if (textChunks) {
                chunk(out, "tIME", new byte[] {0x07, (byte) 0xE4, 3, 1, 10, 15, 0}, false);
            }
            chunk(out, "IEND", new byte[0], false);
            return out.toByteArray();
        }

        private static int paeth(int a, int b, int c) {
            int p = a + b - c;
            int pa = Math.abs(p - a);
            int pb = Math.abs(p - b);
            int pc = Math.abs(p - c);
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }

        private static void chunk(ByteArrayOutputStream out, String type, byte[] data, boolean badCrc) {
            byte[] t = type.getBytes(StandardCharsets.US_ASCII);
            CRC32 crc = new CRC32();
            crc.update(t);
            crc.update(data);
            out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
            out.writeBytes(t);
            out.writeBytes(data);
            out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue() ^ (badCrc ? 1 : 0)).array());
        }
    }

    /** libpng's samples (through OpenCV, as the fallback path reads them) as unsigned ints. */
    private static int[] libpng(byte[] png) {
        OpenCv.load();
        Mat m = Imgcodecs.imdecode(new MatOfByte(png), Imgcodecs.IMREAD_GRAYSCALE | Imgcodecs.IMREAD_ANYDEPTH);
        try {
            assertThat(m.empty()).as("libpng decodes it").isFalse();
            int[] out = new int[(int) m.total()];
            if (m.depth() == CvType.CV_8U) {
                byte[] b = new byte[out.length];
                m.get(0, 0, b);
                for (int i = 0; i < b.length; i++) {
                    out[i] = b[i] & 0xFF;
                }
            } else {
                short[] s = new short[out.length];
                m.get(0, 0, s);
                for (int i = 0; i < s.length; i++) {
                    out[i] = s[i] & 0xFFFF;
                }
            }
            return out;
        } finally {
            m.release();
        }
    }

    /** A pool whose thread inflates while the test thread unfilters, used for images of every size. */
    private static final java.util.concurrent.ExecutorService HELPER = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "png-gray-test-helper");
        t.setDaemon(true);
        return t;
    });

    /** PngGray's result on the calling thread alone, checked equal to the one with the inflate on a helper. */
    private static PngGray.Samples decodeBothWays(byte[] png) {
        PngGray.Samples inline = PngGray.decode(png, null, 0);
        PngGray.Samples pipelined = PngGray.decode(png, HELPER, 0);
        PngGray.Samples rejected = PngGray.decode(png, r -> {
            throw new java.util.concurrent.RejectedExecutionException("busy");
        }, 0);
        for (PngGray.Samples other : new PngGray.Samples[] {pipelined, rejected}) {
            if (inline == null) {
                assertThat(other).isNull();
            } else {
                assertThat(other).isNotNull();
                assertThat(other.samples8()).isEqualTo(inline.samples8());
                assertThat(other.samples16()).isEqualTo(inline.samples16());
            }
        }
        return inline;
    }

    private static int[] java(byte[] png) {
        PngGray.Samples s = decodeBothWays(png);
        assertThat(s).as("PngGray decodes it").isNotNull();
        int[] out = new int[s.width() * s.height()];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.depth() == 8 ? s.samples8()[i] & 0xFF : s.samples16()[i];
        }
        return out;
    }

    @ParameterizedTest(name = "depth {0}")
    @ValueSource(ints = {8, 16})
    void everyFilterTypeAndChunkSplitGivesLibpngsSamples(int depth) {
        for (int chunk : new int[] {1, 7, 8192, 1 << 20}) {
            for (int fixedFilter = -1; fixedFilter <= 4; fixedFilter++) {
                Writer w = new Writer();
                w.depth = depth;
                w.idatChunk = chunk;
                int f = fixedFilter;
                if (f >= 0) {
                    w.filter = y -> f;
                }
                byte[] png = w.write();
                assertThat(java(png)).as("chunk %d filter %d", chunk, f).isEqualTo(libpng(png));
            }
        }
    }

    @Test
    void extremeValuesAndEveryByteTransition() {
        Writer w = new Writer();
        w.width = 256;
        w.height = 256;
        byte[] png = w.write((x, y) -> (x * 31 + y * 17 + (x * y) % 7) & 0xFF);
        assertThat(java(png)).isEqualTo(libpng(png));
        Writer w16 = new Writer();
        w16.depth = 16;
        w16.width = 256;
        w16.height = 256;
        byte[] png16 = w16.write((x, y) -> y * 256 + x); // every 16-bit value once
        assertThat(java(png16)).isEqualTo(libpng(png16));
    }

    @Test
    void sixteenBitFloatsAreThoseOfTheLibpngRoute() {
        Writer w = new Writer();
        w.depth = 16;
        w.width = 256;
        w.height = 256;
        byte[] png = w.write((x, y) -> y * 256 + x);
        OpenCv.load();
        Mat m = Imgcodecs.imdecode(new MatOfByte(png), Imgcodecs.IMREAD_GRAYSCALE | Imgcodecs.IMREAD_ANYDEPTH);
        Mat f = new Mat();
        m.convertTo(f, CvType.CV_32F, 1.0 / 65535.0);
        assertThat(ImageDecoder.decode(png).pixels()).isEqualTo(OpenCv.floats(f));
        m.release();
        f.release();
    }

    @Test
    void irregularFilesAreLeftToLibpng() {
        List<Writer> irregular = Stream.of(
                with(w -> w.corruptIdatCrc = true),
                with(w -> w.extraData = 5),
                with(w -> w.missingData = 10),
                with(w -> w.filter = y -> y == 40 ? 5 : 1),
                with(w -> {
                    w.idatChunk = 100;
                    w.betweenIdat = "tEXt";
                }),
                with(w -> {
                    w.idatChunk = 100;
                    w.betweenIdat = "ABCD";
                }),
                with(w -> w.missingData = 0)).toList();
        for (Writer w : irregular.subList(0, irregular.size() - 1)) {
            assertThat(decodeBothWays(w.write())).isNull();
        }
        // Layouts it does not read: colour type 4 (gray + alpha), 4-bit, interlaced (IHDR patched, CRC fixed).
        assertThat(decodeBothWays(patchedHeader(24, 4))).isNull();
        assertThat(decodeBothWays(patchedHeader(25, 4))).isNull();
        assertThat(decodeBothWays(patchedHeader(28, 1))).isNull();
        assertThat(decodeBothWays(patchedHeader(28, 0))).isNotNull();
        // A critical chunk PngGray does not know, before the data.
        Writer ok = new Writer();
        byte[] png = ok.write();
        byte[] withPlte = insertAfterIhdr(png, "PLTE", new byte[] {0, 0, 0});
        assertThat(decodeBothWays(withPlte)).isNull();
        assertThat(decodeBothWays(Arrays.copyOf(png, png.length - 20))).isNull();
    }

    @Test
    void irregularFilesDecodeAsLibpngOrImageIoDecideAsBefore() {
        // Outcome through ImageDecoder: what the libpng / ImageIO route makes of it, PngGray having stepped aside.
        Writer extra = with(w -> w.extraData = 5);
        byte[] png = extra.write();
        assertThat(PngGray.decode(png)).isNull();
        GrayImage decoded = ImageDecoder.decode(png);
        assertThat(decoded.width()).isEqualTo(extra.width);
    }

    /** A valid file whose IHDR byte at {@code offset} is changed to {@code value}, with a matching CRC. */
    private static byte[] patchedHeader(int offset, int value) {
        byte[] copy = new Writer().write();
        copy[offset] = (byte) value;
        CRC32 crc = new CRC32();
        crc.update(copy, 12, 17);
        ByteBuffer.wrap(copy).putInt(29, (int) crc.getValue());
        return copy;
    }

    private static byte[] insertAfterIhdr(byte[] png, String type, byte[] data) {
        ByteArrayOutputStream chunk = new ByteArrayOutputStream();
        Writer.chunk(chunk, type, data, false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(png, 0, 33);
        out.writeBytes(chunk.toByteArray());
        out.write(png, 33, png.length - 33);
        return out.toByteArray();
    }

    private static Writer with(java.util.function.Consumer<Writer> change) {
        Writer w = new Writer();
        change.accept(w);
        return w;
    }

    @Test
    void anInterruptedPipelinedDecodeStillDecodesAndKeepsTheInterrupt() {
        Writer w = new Writer();
        w.width = 1500;
        w.height = 1200;
        byte[] png = w.write();
        int[] expected = libpng(png);
        Thread.currentThread().interrupt();
        try {
            PngGray.Samples s = PngGray.decode(png, HELPER, 0);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
            int[] got = new int[expected.length];
            for (int i = 0; i < got.length; i++) {
                got[i] = s.samples8()[i] & 0xFF;
            }
            assertThat(got).isEqualTo(expected);
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void largeImagesThroughTheDefaultHelpers() {
        Writer w = new Writer();
        w.width = 1500;
        w.height = 1200; // 1.8 MB of samples: above PIPELINE_MIN_BYTES
        byte[] png = w.write();
        assertThat((long) w.width * w.height).isGreaterThanOrEqualTo(PngGray.PIPELINE_MIN_BYTES);
        PngGray.Samples s = PngGray.decode(png);
        assertThat(s.samples8()).isEqualTo(PngGray.decode(png, null, 0).samples8());
    }

    @Test
    void realRadiographsGiveLibpngsSamples() throws IOException {
        List<Path> files = RealDataTest.fullResolutionPngs();
        for (Path file : files) {
            byte[] png = Files.readAllBytes(file);
            assertThat(java(png)).as(file.getFileName().toString()).isEqualTo(libpng(png)); // isEqualTo: containsExactly diffs in O(n²)
        }
    }
}
