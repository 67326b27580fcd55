package org.cxrtriage.imaging;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Hostile and broken inputs, generated in code (deterministic, nothing binary is committed), each with the outcome
 * it must have at every stage. Shared through the imaging test-jar with the ingest and preprocessing tests and used as
 * the seed corpus of the fuzz tests.
 *
 * <p>Every entry states:
 * <ul>
 *   <li>{@link Entry#admission()}: the ingest reason code ({@link RejectReason} names, or ingest's own
 *       MISSING_FIELD / MALFORMED_FIELD / WRONG_CONTENT_TYPE / LATERAL_VIEW) or {@link #ACCEPTED}, with the HTTP
 *       status;</li>
 *   <li>{@link Entry#decode()}: the {@link RejectReason} of {@link ImageDecoder#decode(byte[], ImageLimits)}, or null
 *       when the bytes decode to an image;</li>
 *   <li>{@link Entry#preprocess()}: what preprocessing makes of the bytes: {@link #TENSOR} or the reason code of the
 *       {@code CxrRejected}. Preprocessing does not trust ingest, so this is stated for refused entries too.</li>
 * </ul>
 * All with {@link #LIMITS}.
 */
public final class BadInputCorpus {

    public static final String ACCEPTED = "ACCEPTED";
    public static final String TENSOR = "TENSOR";
    /** 4 MiB, 50 megapixels, 64 px: the defaults with a smaller byte limit so the oversized entry stays cheap. */
    public static final ImageLimits LIMITS = new ImageLimits(4L * 1024 * 1024, ImageLimits.DEFAULT_MAX_PIXELS,
            ImageLimits.DEFAULT_MIN_SIDE);

    /** What the sender says about the image (the ingest form fields). */
    public record Meta(String patientId, String studyId, String siteId, String deviceId, String viewPosition,
                       String acquisitionTime) {
        public static final Meta GOOD = new Meta("MRN-1001", "study-1", "site-a", "dev-1", "PA", "2020-03-01T10:15:00Z");

        Meta withView(String v) {
            return new Meta(patientId, studyId, siteId, deviceId, v, acquisitionTime);
        }
    }

    /**
     * @param name        stable identifier (also the fuzz seed name)
     * @param why         what the entry is and why its outcome is right
     * @param bytes       the upload
     * @param contentType the declared content type (null: none declared)
     * @param meta        the form fields
     * @param admission   ingest reason code or {@link #ACCEPTED}
     * @param httpStatus  the status ingest answers (202 when accepted)
     * @param decode      decoder reason, or null when the bytes decode
     * @param preprocess  {@link #TENSOR} or the preprocessing reason code
     */
    public record Entry(String name, String why, byte[] bytes, String contentType, Meta meta, String admission,
                        int httpStatus, RejectReason decode, String preprocess) {
        public boolean accepted() {
            return ACCEPTED.equals(admission);
        }

        public boolean isDicom() {
            return bytes.length > 132 && bytes[128] == 'D' && bytes[129] == 'I' && bytes[130] == 'C' && bytes[131] == 'M';
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static volatile List<Entry> cached;

    private BadInputCorpus() {
    }

    /** All entries; built once per JVM (the byte arrays are shared: do not modify them). */
    public static List<Entry> entries() {
        List<Entry> c = cached;
        if (c == null) {
            c = Collections.unmodifiableList(build());
            cached = c;
        }
        return c;
    }

    public static Entry entry(String name) {
        return entries().stream().filter(e -> e.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no corpus entry " + name));
    }

    /** A valid frontal chest PNG that becomes a tensor: the "good image after the bad ones". */
    public static byte[] goodChestPng() {
        return TestImages.png(TestImages.chestPhantom(192));
    }

    private static List<Entry> build() {
        List<Entry> list = new ArrayList<>();
        Meta ok = Meta.GOOD;
        GrayImage chest = TestImages.chestPhantom(192);
        byte[] png = TestImages.png(chest);
        byte[] png16 = TestImages.encode(TestImages.gray16(chest), "png");
        byte[] jpeg = TestImages.encode(TestImages.gray8(chest), "jpeg");
        byte[] tiff = TestImages.encode(TestImages.gray8(chest), "tiff");

        // --- nothing, text and other formats
        list.add(refused("empty", "zero bytes", new byte[0], "image/png", ok, "EMPTY", 400, RejectReason.EMPTY));
        list.add(refused("text", "plain text sent as an image", ascii("this is the radiology report, not the image\n"),
                "image/png", ok, "NOT_AN_IMAGE", 415, RejectReason.NOT_AN_IMAGE));
        list.add(refused("html-error-page", "a proxy's HTML error page uploaded instead of the file",
                ascii("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"), null, ok, "NOT_AN_IMAGE", 415,
                RejectReason.NOT_AN_IMAGE));
        list.add(refused("gif", "a GIF: recognised, not decoded", gif(), null, ok, "UNSUPPORTED_FORMAT", 415,
                RejectReason.UNSUPPORTED_FORMAT));
        list.add(refused("png-signature-only", "the 8-byte PNG signature and nothing else",
                Arrays.copyOf(png, 8), "image/png", ok, "TRUNCATED_OR_CORRUPT", 422, RejectReason.TRUNCATED_OR_CORRUPT));

        // --- PNG
        list.add(refused("png-truncated", "a chest PNG cut in half (no IEND)", Arrays.copyOf(png, png.length / 2),
                "image/png", ok, "TRUNCATED_OR_CORRUPT", 422, RejectReason.TRUNCATED_OR_CORRUPT));
        list.add(new Entry("png-corrupt-zlib", "IDAT with a broken zlib header: the header and trailer are intact, so"
                + " ingest (header-only) accepts it and preprocessing rejects it when inflating", corruptIdat(png),
                "image/png", ok, ACCEPTED, 202, RejectReason.TRUNCATED_OR_CORRUPT, "TRUNCATED_OR_CORRUPT"));
        list.add(refused("png-metadata-past-a-broken-chunk", "a chunk that claims more bytes than the file holds, then"
                + " a tEXt chunk with a patient name: what lies past the break cannot be de-identified, so ingest refuses"
                + " the file instead of publishing it as it is", metadataPastBrokenChunk(png), "image/png", ok,
                "TRUNCATED_OR_CORRUPT", 422, RejectReason.TRUNCATED_OR_CORRUPT));
        list.add(refused("png-100000x100000-header", "IHDR declares 100000x100000 (10 gigapixels), no pixel data",
                TestImages.pngHeaderOnly(100_000, 100_000), "image/png", ok, "TOO_MANY_PIXELS", 413,
                RejectReason.TOO_MANY_PIXELS));
        list.add(refused("png-decompression-bomb", "IHDR 30000x30000 with a 30 KB IDAT that inflates to 30 MB of"
                + " zeros (and declares 900 MB): refused from the header before a pixel is allocated", pngBomb(),
                "image/png", ok, "TOO_MANY_PIXELS", 413, RejectReason.TOO_MANY_PIXELS));
        list.add(good("png-ztxt-bomb", "a valid chest PNG carrying a zTXt text chunk of 100 KB that inflates to 100 MB:"
                + " metadata is never inflated (readers run with ignoreMetadata), so the image is fine",
                withChunkBeforeIdat(png, "zTXt", zTxtBomb(100 << 20)), "image/png"));
        list.add(new Entry("png-inflates-16MB-black", "4000x4000 all-black PNG: 16 MB of pixels from a tiny file, within"
                + " the limits, so it is decoded and then rejected as blank", blackOrWhitePng(4000, 0), "image/png", ok,
                ACCEPTED, 202, null, "BLANK"));
        list.add(refused("png-1x1", "a 1x1 PNG", TestImages.png(new GrayImage(1, 1, new float[] {0.5f})), "image/png",
                ok, "TOO_SMALL", 422, RejectReason.TOO_SMALL));
        list.add(refused("png-10x10", "a 10x10 PNG (an icon)", TestImages.png(TestImages.chestPhantom(10)), "image/png",
                ok, "TOO_SMALL", 422, RejectReason.TOO_SMALL));
        list.add(new Entry("png-all-black", "256x256 all zeros: a well-formed file (accepted by the header-only ingest"
                + " probe) of a failed exposure, rejected by preprocessing", blackOrWhitePng(256, 0), "image/png", ok,
                ACCEPTED, 202, null, "BLANK"));
        list.add(new Entry("png-all-white", "256x256 all 255: well-formed, accepted at ingest, blank for preprocessing",
                blackOrWhitePng(256, 255), "image/png", ok, ACCEPTED, 202, null, "BLANK"));
        list.add(good("png-16bit", "16-bit gray PNG chest", png16, "image/png"));
        list.add(good("png-2bit", "2-bit gray PNG (an odd but legal depth): decoded through the palette path",
                lowDepthPng(chest, 2), "image/png"));
        list.add(good("png-chest", "control: the valid chest PNG", png, "image/png"));

        // --- JPEG
        list.add(refused("jpeg-truncated", "a chest JPEG cut in half (no EOI)", Arrays.copyOf(jpeg, jpeg.length / 2),
                "image/jpeg", ok, "TRUNCATED_OR_CORRUPT", 422, RejectReason.TRUNCATED_OR_CORRUPT));
        list.add(new Entry("jpeg-truncated-eoi-appended", "cut in half, then an EOI marker appended so the trailer"
                + " check passes: accepted by the header-only ingest probe, libjpeg's 'premature end' warning makes"
                + " preprocessing reject it", concat(Arrays.copyOf(jpeg, jpeg.length / 2), new byte[] {(byte) 0xFF, (byte) 0xD9}),
                "image/jpeg", ok, ACCEPTED, 202, RejectReason.TRUNCATED_OR_CORRUPT, "TRUNCATED_OR_CORRUPT"));
        list.add(refused("jpeg-garbage-after-soi", "SOI, then 4 KB of random bytes, then EOI", jpegGarbage(),
                "image/jpeg", ok, "TRUNCATED_OR_CORRUPT", 422, RejectReason.TRUNCATED_OR_CORRUPT));
        list.add(refused("jpeg-65535x65535-header", "a JPEG whose SOF declares 65535x65535 (the format's maximum,"
                + " 4.3 gigapixels) over 192x192 of data", jpegWithSize(jpeg, 65535, 65535), "image/jpeg", ok,
                "TOO_MANY_PIXELS", 413, RejectReason.TOO_MANY_PIXELS));
        list.add(refused("jpeg-1x1", "a 1x1 JPEG", TestImages.encode(TestImages.gray8(new GrayImage(1, 1, new float[] {0.5f})),
                "jpeg"), "image/jpeg", ok, "TOO_SMALL", 422, RejectReason.TOO_SMALL));
        list.add(good("jpeg-cmyk", "a 4-channel (CMYK) JPEG: unusual for an X-ray but a valid image, converted to luma",
                cmykJpeg(chest), "image/jpeg"));
        list.add(good("jpeg-chest", "control: the valid gray JPEG", jpeg, "image/jpeg"));

        // --- TIFF
        list.add(refused("tiff-truncated", "a chest TIFF cut in half", Arrays.copyOf(tiff, tiff.length / 2),
                "image/tiff", ok, "TRUNCATED_OR_CORRUPT", 422, RejectReason.TRUNCATED_OR_CORRUPT));
        list.add(refused("tiff-ifd-offset-out-of-file", "the first-IFD offset points 2 GB past the end", tiffIfdAt(tiff,
                0x7FFFFFF0), "image/tiff", ok, "TRUNCATED_OR_CORRUPT", 422, RejectReason.TRUNCATED_OR_CORRUPT));
        list.add(refused("tiff-100000x100000-header", "a hand-made TIFF declaring 100000x100000 8-bit gray",
                tiffHeader(100_000, 100_000), "image/tiff", ok, "TOO_MANY_PIXELS", 413, RejectReason.TOO_MANY_PIXELS));
        // The TIFF reader allocates by SamplesPerPixel while it reads the header (fuzzing found it: OutOfMemoryError).
        list.add(refused("tiff-2-billion-samples-per-pixel", "a 64x64 TIFF declaring 2^31-1 samples per pixel",
                tiffHeader(64, 64, new int[] {277, 4, Integer.MAX_VALUE}), "image/tiff", ok, "UNSUPPORTED_FORMAT", 415,
                RejectReason.UNSUPPORTED_FORMAT));
        list.add(refused("tiff-tile-width-1.3-billion", "a striped 64x64 TIFF with a TileWidth of 1.3 billion, which the"
                + " reader takes for its strips' width", tiffHeader(64, 64, new int[] {322, 4, 1_291_911_168}),
                "image/tiff", ok, "TOO_MANY_PIXELS", 413, RejectReason.TOO_MANY_PIXELS));
        list.add(refused("tiff-65536x65536-tiles", "a 64x64 TIFF in tiles of 65536x65536 (4.3 gigapixels each)",
                tiffHeader(64, 64, new int[] {322, 4, 65_536}, new int[] {323, 4, 65_536}), "image/tiff", ok,
                "TOO_MANY_PIXELS", 413, RejectReason.TOO_MANY_PIXELS));
        list.add(good("tiff-chest", "control: the valid gray TIFF", tiff, "image/tiff"));

        // --- DICOM
        SyntheticDicom dcm = new SyntheticDicom();
        byte[] dicom = dcm.write();
        list.add(good("dicom-12-in-16", "BitsStored 12 / BitsAllocated 16 MONOCHROME2 with a full patient header",
                dicom, "application/dicom"));
        SyntheticDicom mono1 = new SyntheticDicom();
        mono1.photometric = "MONOCHROME1";
        mono1.syntax = DicomImage.IMPLICIT_LE;
        mono1.windowCenter = "2048";
        mono1.windowWidth = "4096";
        list.add(good("dicom-implicit-monochrome1", "implicit VR, MONOCHROME1 with a VOI window", mono1.write(),
                "application/dicom"));
        SyntheticDicom eight = new SyntheticDicom();
        eight.bitsAllocated = 8;
        eight.bitsStored = 8;
        list.add(good("dicom-8bit", "8 bits allocated and stored", eight.write(), null));
        list.add(refused("dicom-header-cut", "the first 150 bytes of a DICOM file", Arrays.copyOf(dicom, 150),
                "application/dicom", ok, "TRUNCATED_OR_CORRUPT", 422, RejectReason.TRUNCATED_OR_CORRUPT));
        SyntheticDicom cut = new SyntheticDicom();
        cut.pixelBytesKept = 1000;
        list.add(refused("dicom-pixels-cut", "pixel data cut to 1000 of 21504 bytes", cut.write(), "application/dicom",
                ok, "TRUNCATED_OR_CORRUPT", 422, RejectReason.TRUNCATED_OR_CORRUPT));
        list.add(refused("dicom-element-overruns", "an element length (rows) runs 1 GB past the end of the file",
                dicomLengthOverrun(dicom), "application/dicom", ok, "TRUNCATED_OR_CORRUPT", 422,
                RejectReason.TRUNCATED_OR_CORRUPT));
        list.add(refused("dicom-unterminated-sequence", "an undefined-length sequence that never ends",
                dicomUnterminatedSequence(), "application/dicom", ok, "TRUNCATED_OR_CORRUPT", 422,
                RejectReason.TRUNCATED_OR_CORRUPT));
        list.add(refused("dicom-pixel-element-too-short", "the pixel data element says 42 bytes, all pixels follow"
                + " anyway (found by fuzzing: it decoded, its de-identified copy did not)", dicomPixelLength(dicom, 42),
                "application/dicom", ok, "TRUNCATED_OR_CORRUPT", 422, RejectReason.TRUNCATED_OR_CORRUPT));
        SyntheticDicom huge = new SyntheticDicom();
        huge.declaredRows = 65535;
        huge.declaredCols = 65535;
        list.add(refused("dicom-65535x65535-header", "Rows and Columns 65535 (US maximum, 4.3 gigapixels) over"
                + " 96x112 of data", huge.write(), "application/dicom", ok, "TOO_MANY_PIXELS", 413,
                RejectReason.TOO_MANY_PIXELS));
        SyntheticDicom tiny = new SyntheticDicom();
        tiny.rows = 10;
        tiny.cols = 10;
        list.add(refused("dicom-10x10", "a 10x10 DICOM", tiny.write(), "application/dicom", ok, "TOO_SMALL", 422,
                RejectReason.TOO_SMALL));
        SyntheticDicom lateral = new SyntheticDicom();
        lateral.view = "LL";
        list.add(refused("dicom-lateral", "ViewPosition LL in the DICOM header (the form says PA): refused at the door",
                lateral.write(), "application/dicom", ok, "LATERAL_VIEW", 422, RejectReason.LATERAL_VIEW));
        SyntheticDicom jpegSyntax = new SyntheticDicom();
        jpegSyntax.syntax = "1.2.840.10008.1.2.4.50";
        list.add(refused("dicom-jpeg-transfer-syntax", "JPEG baseline transfer syntax (compressed)", jpegSyntax.write(),
                "application/dicom", ok, "UNSUPPORTED_FORMAT", 415, RejectReason.UNSUPPORTED_FORMAT));
        SyntheticDicom odd = new SyntheticDicom();
        odd.bitsAllocated = 7;
        odd.bitsStored = 7;
        list.add(refused("dicom-7-bits-allocated", "BitsAllocated 7: not a legal container size", odd.write(),
                "application/dicom", ok, "UNSUPPORTED_FORMAT", 415, RejectReason.UNSUPPORTED_FORMAT));
        SyntheticDicom wide = new SyntheticDicom();
        wide.bitsAllocated = 24;
        wide.bitsStored = 24;
        list.add(refused("dicom-24-bits-allocated", "BitsAllocated 24: no X-ray detector stores that, only 8 and 16"
                + " are read", wide.write(), "application/dicom", ok, "UNSUPPORTED_FORMAT", 415,
                RejectReason.UNSUPPORTED_FORMAT));
        SyntheticDicom rgb = new SyntheticDicom();
        rgb.samplesPerPixel = 3;
        rgb.photometric = "RGB";
        rgb.bitsAllocated = 8;
        rgb.bitsStored = 8;
        list.add(refused("dicom-rgb", "3 samples per pixel (a secondary capture, not a radiograph)", rgb.write(),
                "application/dicom", ok, "UNSUPPORTED_FORMAT", 415, RejectReason.UNSUPPORTED_FORMAT));
        SyntheticDicom nan = new SyntheticDicom();
        nan.slope = "NaN";
        nan.intercept = "1e999";
        list.add(good("dicom-nan-rescale", "rescale slope NaN and intercept 1e999: ignored (1 and 0), not propagated"
                + " into the pixels", nan.write(), "application/dicom"));
        SyntheticDicom black = new SyntheticDicom();
        list.add(new Entry("dicom-all-black", "a well-formed DICOM whose pixels are all 0: accepted, then blank",
                black.write((x, y) -> 0), "application/dicom", ok, ACCEPTED, 202, null, "BLANK"));

        // --- the upload around the image: size, declared type, form fields
        list.add(refused("oversized-payload", "a valid PNG padded to one byte over the limit", padded(png,
                (int) LIMITS.maxBytes() + 1), "image/png", ok, "TOO_MANY_BYTES", 413, RejectReason.TOO_MANY_BYTES));
        list.add(new Entry("wrong-content-type-jpeg", "PNG bytes declared as image/jpeg", png, "image/jpeg", ok,
                "WRONG_CONTENT_TYPE", 415, null, TENSOR));
        list.add(new Entry("wrong-content-type-text", "PNG bytes declared as text/plain", png, "text/plain", ok,
                "WRONG_CONTENT_TYPE", 415, null, TENSOR));
        list.add(new Entry("dicom-declared-as-png", "DICOM bytes declared as image/png", dicom, "image/png", ok,
                "WRONG_CONTENT_TYPE", 415, null, TENSOR));
        // Its own image: every accepted entry has distinct bytes, so a run with duplicate detection on gets no 409.
        list.add(good("generic-content-type", "application/octet-stream is generic: the bytes decide",
                TestImages.png(TestImages.chestPhantom(200)), "application/octet-stream"));
        list.add(metaRefused("missing-patient-id", new Meta(null, "study-1", "site-a", null, "PA", null), png,
                "MISSING_FIELD"));
        list.add(metaRefused("blank-study-id", new Meta("MRN-1", "  ", "site-a", null, "PA", null), png, "MISSING_FIELD"));
        list.add(metaRefused("missing-view-position", ok.withView(null), png, "MISSING_FIELD"));
        list.add(metaRefused("malformed-acquisition-time", new Meta("MRN-1", "s", "site-a", null, "PA", "yesterday 10am"),
                png, "MALFORMED_FIELD"));
        list.add(metaRefused("acquisition-time-without-zone", new Meta("MRN-1", "s", "site-a", null, "PA",
                "2020-03-01T10:15:00"), png, "MALFORMED_FIELD"));
        list.add(metaRefused("overlong-site-id", new Meta("MRN-1", "s", "x".repeat(300), null, "PA", null), png,
                "MALFORMED_FIELD"));
        list.add(new Entry("lateral-view-field", "the form says LATERAL", png, "image/png", ok.withView("LATERAL"),
                "LATERAL_VIEW", 422, null, TENSOR));
        return list;
    }

    private static Entry refused(String name, String why, byte[] bytes, String type, Meta meta, String reason,
                                 int status, RejectReason decode) {
        return new Entry(name, why, bytes, type, meta, reason, status, decode, decode.name());
    }

    private static Entry good(String name, String why, byte[] bytes, String type) {
        return new Entry(name, why, bytes, type, Meta.GOOD, ACCEPTED, 202, null, TENSOR);
    }

    private static Entry metaRefused(String name, Meta meta, byte[] png, String reason) {
        return new Entry(name, "form fields: " + meta, png, "image/png", meta, reason, 400, null, TENSOR);
    }

    // ----------------------------------------------------------------------------------------------- generators

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] padded(byte[] bytes, int length) {
        return Arrays.copyOf(bytes, length);
    }

    private static byte[] gif() {
        byte[] b = Arrays.copyOf(ascii("GIF89a"), 64);
        b[6] = 64;
        b[8] = 64;
        return b;
    }

    private static byte[] blackOrWhitePng(int side, int value) {
        byte[] samples = new byte[side * side];
        Arrays.fill(samples, (byte) value);
        return TestImages.png(GrayImage.fromUint8(side, side, samples));
    }

    /** A gray PNG with 1, 2 or 4 bits per pixel (ImageIO writes TYPE_BYTE_BINARY as such). */
    private static byte[] lowDepthPng(GrayImage image, int bits) {
        int levels = (1 << bits) - 1;
        byte[] ramp = new byte[levels + 1];
        for (int i = 0; i <= levels; i++) {
            ramp[i] = (byte) (i * 255 / levels);
        }
        java.awt.image.IndexColorModel cm = new java.awt.image.IndexColorModel(bits, levels + 1, ramp, ramp, ramp);
        BufferedImage b = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_BYTE_BINARY, cm);
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                b.getRaster().setSample(x, y, 0, Math.round(image.get(x, y) * levels));
            }
        }
        return TestImages.encode(b, "png");
    }

    /** Overwrites the zlib header of the first IDAT with an invalid one (CRC left stale). */
    private static byte[] corruptIdat(byte[] png) {
        byte[] b = png.clone();
        int at = indexOf(b, ascii("IDAT"));
        b[at + 4] = (byte) 0xFF;
        b[at + 5] = (byte) 0xFF;
        return b;
    }

    /**
     * IHDR 30000x30000 8-bit gray, then one IDAT holding the deflated first 1000 rows of zeros (30 MB inflated,
     * about 30 KB deflated), then IEND.
     */
    private static byte[] pngBomb() {
        int side = 30_000;
        int rows = 1000;
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        byte[] row = new byte[side + 1];
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        for (int r = 0; r < rows; r++) {
            deflater.setInput(row);
            while (!deflater.needsInput()) {
                int n = deflater.deflate(buf);
                idat.write(buf, 0, n);
            }
        }
        deflater.finish();
        while (!deflater.finished()) {
            int n = deflater.deflate(buf);
            idat.write(buf, 0, n);
        }
        deflater.end();
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(side).putInt(side).put((byte) 8).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        pngChunk(out, "IHDR", ihdr.array());
        pngChunk(out, "IDAT", idat.toByteArray());
        pngChunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    /** zTXt data: keyword "Comment", NUL, method 0, then {@code inflated} zero bytes deflated. */
    private static byte[] zTxtBomb(int inflated) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ascii("Comment"));
        out.write(0);
        out.write(0);
        out.writeBytes(deflateZeros(inflated));
        return out.toByteArray();
    }

    private static byte[] deflateZeros(long count) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        byte[] zeros = new byte[1 << 20];
        byte[] buf = new byte[64 * 1024];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long done = 0; done < count; done += zeros.length) {
            deflater.setInput(zeros, 0, (int) Math.min(zeros.length, count - done));
            while (!deflater.needsInput()) {
                out.write(buf, 0, deflater.deflate(buf));
            }
        }
        deflater.finish();
        while (!deflater.finished()) {
            out.write(buf, 0, deflater.deflate(buf));
        }
        deflater.end();
        return out.toByteArray();
    }

    /** Inserts a chunk (with a correct CRC) right before the first IDAT. */
    /** A private chunk whose length field claims about 2 GB, then a tEXt chunk naming a patient, before IDAT. */
    private static byte[] metadataPastBrokenChunk(byte[] png) {
        byte[] withPrivate = withChunkBeforeIdat(png, "prVt", new byte[] {1});
        byte[] withBoth = withChunkBeforeIdat(withPrivate, "tEXt", ascii("Patient\0DOE^JANE")); // after prVt
        int overlong = indexOf(withBoth, ascii("prVt")) - 4;
        withBoth[overlong] = 0x7F;
        return withBoth;
    }

    private static byte[] withChunkBeforeIdat(byte[] png, String type, byte[] data) {
        int idat = indexOf(png, ascii("IDAT")) - 4;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(png, 0, idat);
        pngChunk(out, type, data);
        out.write(png, idat, png.length - idat);
        return out.toByteArray();
    }

    private static void pngChunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] typeBytes = ascii(type);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(typeBytes);
        out.writeBytes(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    private static byte[] jpegGarbage() {
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        return concat(concat(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF}, noise), new byte[] {(byte) 0xFF, (byte) 0xD9});
    }

    /** Patches the height and width of the first SOFn segment. */
    private static byte[] jpegWithSize(byte[] jpeg, int width, int height) {
        byte[] b = jpeg.clone();
        for (int i = 2; i + 9 < b.length; i++) {
            int m = b[i + 1] & 0xFF;
            if ((b[i] & 0xFF) == 0xFF && m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                b[i + 5] = (byte) (height >> 8);
                b[i + 6] = (byte) height;
                b[i + 7] = (byte) (width >> 8);
                b[i + 8] = (byte) width;
                return b;
            }
        }
        throw new IllegalStateException("no SOF marker");
    }

    /** A 4-component Adobe CMYK JPEG whose black channel carries the image (as a prepress tool would write it). */
    private static byte[] cmykJpeg(GrayImage image) {
        int w = image.width();
        int h = image.height();
        WritableRaster raster = Raster.createWritableRaster(new PixelInterleavedSampleModel(DataBuffer.TYPE_BYTE, w, h,
                4, 4 * w, new int[] {0, 1, 2, 3}), null);
        byte[] g = image.toUint8();
        for (int i = 0; i < g.length; i++) {
            // Adobe stores CMYK inverted (255 = no ink): no colour ink, black ink = 255 - gray, stored as gray.
            raster.setSample(i % w, i / w, 0, 255);
            raster.setSample(i % w, i / w, 1, 255);
            raster.setSample(i % w, i / w, 2, 255);
            raster.setSample(i % w, i / w, 3, g[i] & 0xFF);
        }
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            writer.write(null, new IIOImage(raster, null, null), writer.getDefaultWriteParam());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
        // The writer adds no Adobe APP14 segment, without which readers take 4 components for YCbCrA. Insert one
        // right after SOI: version 100, no flags, transform 0 (plain CMYK).
        byte[] plain = out.toByteArray();
        byte[] app14 = {(byte) 0xFF, (byte) 0xEE, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0};
        return concat(concat(Arrays.copyOf(plain, 2), app14), Arrays.copyOfRange(plain, 2, plain.length));
    }

    /** Replaces the first-IFD offset of a little- or big-endian TIFF. */
    private static byte[] tiffIfdAt(byte[] tiff, int offset) {
        byte[] b = tiff.clone();
        ByteOrder order = b[0] == 'I' ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        ByteBuffer.wrap(b).order(order).putInt(4, offset);
        return b;
    }

    /**
     * A minimal little-endian TIFF: one uncompressed 8-bit gray strip of 64 bytes, any declared size. Extra entries
     * ({tag, type, value}: type 3 SHORT or 4 LONG) replace the entry of the same tag or are added.
     */
    static byte[] tiffHeader(int width, int height, int[]... extra) {
        java.util.TreeMap<Integer, int[]> tags = new java.util.TreeMap<>();
        for (int[] e : new int[][] {
                {256, 4, width},   // ImageWidth
                {257, 4, height},  // ImageLength
                {258, 3, 8},       // BitsPerSample
                {259, 3, 1},       // Compression none
                {262, 3, 1},       // BlackIsZero
                {273, 4, 0},       // StripOffsets, filled in below
                {277, 3, 1},       // SamplesPerPixel
                {278, 4, height},  // RowsPerStrip
                {279, 4, 64}}) {   // StripByteCounts
            tags.put(e[0], e);
        }
        for (int[] e : extra) {
            tags.put(e[0], e);
        }
        int ifd = 8;
        int data = ifd + 2 + tags.size() * 12 + 4;
        ByteBuffer b = ByteBuffer.allocate(data + 64).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(ifd);
        b.putShort((short) tags.size());
        for (int[] e : tags.values()) {
            tiffEntry(b, e[0], e[1], e[0] == 273 ? data : e[2]);
        }
        b.putInt(0);
        return b.array();
    }

    private static void tiffEntry(ByteBuffer b, int tag, int type, int value) {
        b.putShort((short) tag).putShort((short) type).putInt(1);
        if (type == 3) {
            b.putShort((short) value).putShort((short) 0);
        } else {
            b.putInt(value);
        }
    }

    /** Sets the length of the Rows element (explicit VR, short form) to... the largest long-form length. */
    private static byte[] dicomLengthOverrun(byte[] dicom) {
        byte[] b = dicom.clone();
        // Find (0028,0010) US and turn it into an "UN" element claiming 1 GB.
        for (int i = 132; i + 12 < b.length; i += 2) {
            if (b[i] == 0x28 && b[i + 1] == 0 && b[i + 2] == 0x10 && b[i + 3] == 0 && b[i + 4] == 'U' && b[i + 5] == 'S') {
                b[i + 5] = 'N';
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putShort(i + 6, (short) 0).putInt(i + 8, 1 << 30);
                return b;
            }
        }
        throw new IllegalStateException("no rows element");
    }

    /** Sets the length field of the (explicit VR) pixel data element, leaving the bytes after it in place. */
    private static byte[] dicomPixelLength(byte[] dicom, int length) {
        byte[] b = dicom.clone();
        int at = indexOf(b, new byte[] {(byte) 0xE0, 0x7F, 0x10, 0x00});
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at + 8, length);
        return b;
    }

    private static byte[] dicomUnterminatedSequence() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[128]);
        out.writeBytes(ascii("DICM"));
        SyntheticDicom.element(out, 0x0002, 0x0010, "UI", SyntheticDicom.ui(DicomImage.EXPLICIT_LE), true);
        ByteBuffer sq = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x0008)
                .putShort((short) 0x1120).put(ascii("SQ")).putShort((short) 0).putInt(-1);
        out.writeBytes(sq.array());
        byte[] junk = new byte[2048];
        new Random(11).nextBytes(junk);
        for (int i = 0; i < junk.length; i++) {
            if (junk[i] == (byte) 0xFE) {
                junk[i] = 0;
            }
        }
        out.writeBytes(junk);
        return out.toByteArray();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("not found");
    }
}
