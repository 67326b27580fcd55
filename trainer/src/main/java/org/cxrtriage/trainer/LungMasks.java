package org.cxrtriage.trainer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.cxrtriage.imaging.GrayImage;
import org.cxrtriage.imaging.ImageDecoder;
import org.cxrtriage.imaging.InvalidImageException;
import org.cxrtriage.imaging.PreprocessConfig;
import org.cxrtriage.imaging.PreprocessedImage;
import org.cxrtriage.imaging.Preprocessor;

/**
 * The lung-mask data set: {@code masks_manifest.csv} ({@code mask_file,image_file,mask_type,...}, paths relative
 * to its folder) joined with the image manifest for patient ids. Each image is preprocessed exactly as the stream
 * does ({@link Preprocessor} at the tensor size) and its mask is brought onto that plane with the same geometry
 * ({@link Preprocessor#alignToPlane}), so masks and planes align pixel for pixel. An image with a hand-drawn and a
 * model-generated mask keeps the hand-drawn one. Everything stays in memory, nothing is written to disk.
 */
final class LungMasks {
    static final String FILE_NAME = "masks_manifest.csv";

    /** One image with its mask on the preprocessed plane (both {@code size²} uint8, mask 0/255). */
    record Sample(Manifest.Entry entry, boolean handDrawn, int size, byte[] cxr, byte[] mask) {
        String patientId() {
            return entry.patientId();
        }
    }

    private LungMasks() {}

    /** Rows of the mask manifest: image file (as in manifest.csv) → [mask file, hand-drawn?]. */
    static Map<String, String[]> readIndex(Path masksCsv) throws IOException {
        List<String> lines = Files.readAllLines(masksCsv, StandardCharsets.UTF_8);
        List<String> header = Manifest.parseLine(lines.get(0));
        int maskCol = header.indexOf("mask_file");
        int imageCol = header.indexOf("image_file");
        int typeCol = header.indexOf("mask_type");
        if (maskCol < 0 || imageCol < 0 || typeCol < 0) {
            throw new IOException(masksCsv + ": needs columns mask_file,image_file,mask_type, has " + header);
        }
        Map<String, String[]> byImage = new LinkedHashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            List<String> f = Manifest.parseLine(lines.get(i));
            boolean handDrawn = f.get(typeCol).toLowerCase(Locale.ROOT).startsWith("manual");
            String[] previous = byImage.get(f.get(imageCol));
            if (previous == null || (handDrawn && !Boolean.parseBoolean(previous[1]))) {
                byImage.put(f.get(imageCol), new String[] {f.get(maskCol), Boolean.toString(handDrawn)});
            }
        }
        return byImage;
    }

    /**
     * Loads every masked image of {@code manifest} that preprocessing accepts.
     *
     * @param threads decoding/preprocessing threads
     */
    static List<Sample> load(Manifest manifest, Path masksCsv, int size, int threads, java.io.PrintStream log)
            throws IOException, InterruptedException {
        Map<String, String[]> index = readIndex(masksCsv);
        Map<String, Manifest.Entry> byFile = new HashMap<>();
        for (Manifest.Entry e : manifest.entries()) {
            byFile.put(e.file(), e);
        }
        Path root = masksCsv.toAbsolutePath().getParent();
        Preprocessor preprocessor = new Preprocessor(PreprocessConfig.ofSize(size));
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
        List<Future<Sample>> futures = new ArrayList<>();
        int unknown = 0;
        try {
            for (Map.Entry<String, String[]> row : index.entrySet()) {
                Manifest.Entry entry = byFile.get(row.getKey());
                if (entry == null) {
                    unknown++;
                    continue;
                }
                String maskFile = row.getValue()[0];
                boolean handDrawn = Boolean.parseBoolean(row.getValue()[1]);
                futures.add(pool.submit(() -> {
                    try {
                        GrayImage image = ImageDecoder.decode(Files.readAllBytes(manifest.resolve(entry)));
                        PreprocessedImage plane = preprocessor.process(image);
                        GrayImage mask = ImageDecoder.decode(Files.readAllBytes(root.resolve(maskFile)));
                        byte[] aligned = binarise(preprocessor.alignToPlane(mask, plane));
                        return new Sample(entry, handDrawn, size, plane.cxr(), aligned);
                    } catch (InvalidImageException e) {
                        log.println("skipped " + entry.file() + ": " + e.code() + " " + e.getMessage());
                        return null;
                    }
                }));
            }
            List<Sample> out = new ArrayList<>();
            for (Future<Sample> f : futures) {
                try {
                    Sample s = f.get();
                    if (s != null) {
                        out.add(s);
                    }
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IOException("loading a masked image failed", e.getCause());
                }
            }
            if (unknown > 0) {
                log.println(unknown + " masks name images that are not in the manifest; ignored");
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** 0/255 at the 0.5 level of an interpolated mask. */
    static byte[] binarise(byte[] soft) {
        byte[] out = new byte[soft.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) ((soft[i] & 0xFF) >= 128 ? 255 : 0);
        }
        return out;
    }

    /** Dice of two binary planes at the 0.5 level (1 when both are empty). */
    static double dice(byte[] predicted, byte[] truth) {
        long both = 0;
        long p = 0;
        long t = 0;
        for (int i = 0; i < truth.length; i++) {
            boolean a = (predicted[i] & 0xFF) >= 128;
            boolean b = (truth[i] & 0xFF) >= 128;
            p += a ? 1 : 0;
            t += b ? 1 : 0;
            both += a && b ? 1 : 0;
        }
        return p + t == 0 ? 1.0 : 2.0 * both / (p + t);
    }

    /** Default masks manifest: beside the image manifest. */
    static Path defaultMasksCsv(Path manifestCsv) {
        return manifestCsv.toAbsolutePath().getParent().resolve(FILE_NAME);
    }
}
