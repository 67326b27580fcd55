package org.cxrtriage.trainer;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.cxrtriage.imaging.HeuristicLungSegmenter;
import org.cxrtriage.imaging.InvalidImageException;
import org.cxrtriage.imaging.LungSegmenter;
import org.cxrtriage.imaging.LungMap;
import org.cxrtriage.imaging.LungSegmenter;
import org.cxrtriage.imaging.PreprocessConfig;
import org.cxrtriage.imaging.PreprocessedImage;
import org.cxrtriage.imaging.Preprocessor;
import org.cxrtriage.imaging.TensorPlanes;
import org.cxrtriage.model.ModelInput;

/**
 * Every manifest image preprocessed once, exactly as the streaming preprocess service does it
 * ({@link Preprocessor} at the tensor size, then the lung channel: the U-Net or {@link HeuristicLungSegmenter}), kept in memory as the two
 * uint8 planes. Images the service would reject (decode/view errors, lung area below the minimum) are kept
 * as {@code null} with a reason. Optionally mirrored to a binary file so later runs skip the work.
 */
public final class ImageCache {
    /** The service's PREPROCESS_MIN_LUNG_FRACTION default with the U-Net (the heuristic's is 0). */
    public static final double DEFAULT_MIN_LUNG_FRACTION = TensorPlanes.DEFAULT_MIN_LUNG_FRACTION;
    private static final int MAGIC = 0x43585243; // "CXRC"

    private final int size;
    private final ModelInput[] inputs;
    private final String[] rejections;
    private final String planes;

    private ImageCache(int size, ModelInput[] inputs, String[] rejections, String planes) {
        this.size = size;
        this.inputs = inputs;
        this.rejections = rejections;
        this.planes = planes;
    }

    public int size() {
        return size;
    }

    /** Planes of manifest entry {@code index}, or null if it was rejected. */
    public ModelInput input(int index) {
        return inputs[index];
    }

    public String rejection(int index) {
        return rejections[index];
    }

    /** What the planes hold ({@link TensorPlanes#contents()}); null for a cache made of given planes (tests). */
    public String planes() {
        return planes;
    }

    public int rejectedCount() {
        int n = 0;
        for (ModelInput i : inputs) {
            if (i == null) {
                n++;
            }
        }
        return n;
    }

    /** Preprocesses one encoded image the way the streaming service does. */
    public static ModelInput preprocess(TensorPlanes planes, byte[] encoded) throws InvalidImageException {
        TensorPlanes.Planes p = planes.compute(encoded);
        return new ModelInput(p.image().size(), p.image().cxr(), p.lungs().probability());
    }

    /**
     * Loads from {@code cacheDir} if a file for exactly this manifest/size/preprocessing exists, else
     * preprocesses with {@code threads} threads (progress to {@code log}) and writes the file.
     */
    public static ImageCache build(Manifest manifest, int size, double minLungFraction, int threads, Path cacheDir,
            PrintStream log) throws IOException {
        return build(manifest, size, new HeuristicLungSegmenter(), minLungFraction, threads, cacheDir, log);
    }

    /**
     * As {@link #build(Manifest, int, double, int, Path, PrintStream)} with the given lung channel (shared by the
     * worker threads: segmenters are thread-safe); the cache key includes its version.
     */
    public static ImageCache build(Manifest manifest, int size, LungSegmenter lungs, double minLungFraction,
            int threads, Path cacheDir, PrintStream log) throws IOException {
        PreprocessConfig config = PreprocessConfig.ofSize(size);
        String contents = new TensorPlanes(new Preprocessor(config), lungs, minLungFraction).contents();
        Path file = cacheDir == null ? null
                : cacheDir.resolve("cxr-" + key(manifest, config, lungs, minLungFraction) + ".bin");
        if (file != null && Files.isRegularFile(file)) {
            try {
                ImageCache cached = read(file, manifest.entries().size(), size, contents);
                log.printf("image cache: loaded %d images from %s (%d rejected)%n", cached.inputs.length, file,
                        cached.rejectedCount());
                return cached;
            } catch (IOException e) {
                log.println("image cache: ignoring unreadable " + file + ": " + e.getMessage());
            }
        }
        int n = manifest.entries().size();
        ModelInput[] inputs = new ModelInput[n];
        String[] rejections = new String[n];
        long start = System.nanoTime();
        AtomicInteger done = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < Math.max(1, threads); t++) {
                final int worker = t;
                final int stride = Math.max(1, threads);
                futures.add(pool.submit(() -> {
                    TensorPlanes planes = new TensorPlanes(new Preprocessor(config), lungs, minLungFraction);
                    for (int i = worker; i < n; i += stride) {
                        Manifest.Entry e = manifest.entries().get(i);
                        try {
                            inputs[i] = preprocess(planes, Files.readAllBytes(manifest.resolve(e)));
                        } catch (InvalidImageException ex) {
                            rejections[i] = ex.code().name() + ": " + ex.getMessage();
                        } catch (IOException | RuntimeException ex) {
                            rejections[i] = ex.getMessage();
                        }
                        int d = done.incrementAndGet();
                        if (d % 100 == 0 || d == n) {
                            double s = (System.nanoTime() - start) / 1e9;
                            log.printf("preprocess: %d/%d images, %.0fs elapsed, ETA %.0fs%n", d, n, s,
                                    s / d * (n - d));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while preprocessing", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("preprocessing failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
        ImageCache cache = new ImageCache(size, inputs, rejections, contents);
        log.printf("preprocess: %d images in %.1fs, %d rejected%n", n, (System.nanoTime() - start) / 1e9,
                cache.rejectedCount());
        if (file != null) {
            cache.write(file);
            log.println("image cache: wrote " + file);
        }
        return cache;
    }

    private static String key(Manifest manifest, PreprocessConfig config, LungSegmenter lungs, double minLungFraction)
            throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            String planes = new TensorPlanes(new Preprocessor(config), lungs, minLungFraction).fingerprint();
            md.update((planes + ";" + manifest.directory()).getBytes(StandardCharsets.UTF_8));
            for (Manifest.Entry e : manifest.entries()) {
                Path p = manifest.resolve(e);
                long len = Files.isRegularFile(p) ? Files.size(p) : -1;
                long mtime = len >= 0 ? Files.getLastModifiedTime(p).toMillis() : 0;
                md.update((e.file() + ":" + len + ":" + mtime + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 20);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
            out.writeInt(MAGIC);
            out.writeInt(inputs.length);
            out.writeInt(size);
            for (int i = 0; i < inputs.length; i++) {
                if (inputs[i] == null) {
                    out.writeBoolean(false);
                    out.writeUTF(rejections[i] == null ? "unknown" : truncate(rejections[i]));
                } else {
                    out.writeBoolean(true);
                    out.write(inputs[i].cxr());
                    out.write(inputs[i].lung());
                }
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String truncate(String s) {
        return s.length() > 1000 ? s.substring(0, 1000) : s;
    }

    private static ImageCache read(Path file, int expectedCount, int expectedSize, String planes) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
            if (in.readInt() != MAGIC || in.readInt() != expectedCount || in.readInt() != expectedSize) {
                throw new IOException("cache header does not match");
            }
            ModelInput[] inputs = new ModelInput[expectedCount];
            String[] rejections = new String[expectedCount];
            int plane = expectedSize * expectedSize;
            for (int i = 0; i < expectedCount; i++) {
                if (in.readBoolean()) {
                    byte[] cxr = new byte[plane];
                    byte[] lung = new byte[plane];
                    in.readFully(cxr);
                    in.readFully(lung);
                    inputs[i] = new ModelInput(expectedSize, cxr, lung);
                } else {
                    rejections[i] = in.readUTF();
                }
            }
            return new ImageCache(expectedSize, inputs, rejections, planes);
        }
    }

    /** For tests: a cache over given planes. */
    static ImageCache of(int size, ModelInput[] inputs) {
        return new ImageCache(size, inputs.clone(), new String[inputs.length], null);
    }
}
