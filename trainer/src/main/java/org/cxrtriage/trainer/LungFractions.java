package org.cxrtriage.trainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.cxrtriage.imaging.GrayImage;
import org.cxrtriage.imaging.InvalidImageException;
import org.cxrtriage.imaging.LungMap;
import org.cxrtriage.imaging.LungSegmenter;
import org.cxrtriage.imaging.PreprocessConfig;
import org.cxrtriage.imaging.PreprocessedImage;
import org.cxrtriage.imaging.Preprocessor;

/**
 * The lung-area fraction a segmenter finds on every image of a manifest and on synthetic non-chest images: the
 * evidence for the NO_LUNGS threshold (every real X-ray must pass it, non-chest images must not).
 */
final class LungFractions {
    private LungFractions() {}

    /** Synthetic images that are not chest X-rays: uniform noise, gradients, a checkerboard, a bright disc. */
    static List<GrayImage> nonChestImages() {
        int w = 400;
        int h = 360;
        List<GrayImage> out = new ArrayList<>();
        Random random = new Random(42);
        float[] noise = new float[w * h];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = random.nextFloat();
        }
        out.add(new GrayImage(w, h, noise));
        float[] horizontal = new float[w * h];
        float[] vertical = new float[w * h];
        float[] radial = new float[w * h];
        float[] checker = new float[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                horizontal[y * w + x] = x / (float) (w - 1);
                vertical[y * w + x] = y / (float) (h - 1);
                double r = Math.hypot(x - w / 2.0, y - h / 2.0) / Math.hypot(w / 2.0, h / 2.0);
                radial[y * w + x] = (float) r;
                checker[y * w + x] = ((x / 40) + (y / 40)) % 2 == 0 ? 0.2f : 0.8f;
            }
        }
        out.add(new GrayImage(w, h, horizontal));
        out.add(new GrayImage(w, h, vertical));
        out.add(new GrayImage(w, h, radial));
        out.add(new GrayImage(w, h, checker));
        return out;
    }

    static final String[] NON_CHEST_NAMES = {"uniform noise", "horizontal gradient", "vertical gradient",
        "radial gradient", "checkerboard"};

    static void report(Manifest manifest, LungSegmenter lungs, int size, PrintStream log) throws IOException {
        Preprocessor preprocessor = new Preprocessor(PreprocessConfig.ofSize(size));
        record Row(String file, String source, double fraction) {}
        List<Row> rows = new ArrayList<>();
        int rejected = 0;
        long start = System.nanoTime();
        for (Manifest.Entry e : manifest.entries()) {
            try {
                PreprocessedImage p = preprocessor.process(Files.readAllBytes(manifest.resolve(e)));
                rows.add(new Row(e.file(), e.source(), lungs.segment(p.cxr(), p.size()).lungAreaFraction()));
            } catch (InvalidImageException ex) {
                rejected++;
            }
            if (rows.size() % 200 == 0) {
                log.printf(Locale.ROOT, "%d/%d images, %.0fs%n", rows.size(), manifest.entries().size(),
                        (System.nanoTime() - start) / 1e9);
            }
        }
        rows.sort(Comparator.comparingDouble(Row::fraction));
        log.printf(Locale.ROOT, "%s on %d real X-rays at %d px (%d rejected before the lung step):%n", lungs.version(),
                rows.size(), size, rejected);
        double[] q = {0, 0.001, 0.01, 0.05, 0.5, 0.95, 1};
        for (double quantile : q) {
            log.printf(Locale.ROOT, "  lung fraction q%.3f = %.4f%n", quantile,
                    rows.get((int) Math.min(rows.size() - 1, Math.round(quantile * (rows.size() - 1)))).fraction());
        }
        log.println("  lowest 5:");
        for (int i = 0; i < Math.min(5, rows.size()); i++) {
            log.printf(Locale.ROOT, "    %.4f %s (%s)%n", rows.get(i).fraction(), rows.get(i).file(), rows.get(i).source());
        }
        List<GrayImage> synthetic = nonChestImages();
        for (int i = 0; i < synthetic.size(); i++) {
            try {
                PreprocessedImage p = preprocessor.process(synthetic.get(i));
                LungMap map = lungs.segment(p.cxr(), p.size());
                log.printf(Locale.ROOT, "  synthetic %s: lung fraction %.4f%n", NON_CHEST_NAMES[i], map.lungAreaFraction());
            } catch (InvalidImageException ex) {
                log.printf(Locale.ROOT, "  synthetic %s: rejected before the lung step (%s)%n", NON_CHEST_NAMES[i],
                        ex.code());
            }
        }
    }
}
