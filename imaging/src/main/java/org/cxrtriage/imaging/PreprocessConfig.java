package org.cxrtriage.imaging;

import java.util.Locale;
import java.util.Objects;

/**
 * Parameters of {@link Preprocessor}.
 *
 * @param size            output side in pixels (the paper uses 1024)
 * @param claheClipLimit  CLAHE clip limit
 * @param claheTiles      CLAHE tiles per side
 * @param workingScale    CLAHE and standardisation run on a square of {@code size × workingScale} px (never more
 *                        than the cropped image itself), not at full resolution. At 2 the final step is a 2×
 *                        bilinear downscale, which averages away the difference; full resolution would cost
 *                        several times more for a result that differs by about one gray level
 * @param limits          input limits for decoding
 */
public record PreprocessConfig(int size, double claheClipLimit, int claheTiles, double workingScale, ImageLimits limits) {
    /**
     * Identifies the preprocessing algorithm. Bump it whenever a change alters output pixels, so that tensors,
     * caches and training sets made by different versions are never mixed.
     */
    public static final String VERSION = "cxr-preprocess-1";
    public static final int DEFAULT_SIZE = 1024;
    public static final double DEFAULT_WORKING_SCALE = 2.0;

    public PreprocessConfig {
        Objects.requireNonNull(limits, "limits");
        if (size < 8 || claheClipLimit <= 0 || claheTiles <= 0 || workingScale < 1.0) {
            throw new IllegalArgumentException("invalid preprocessing config: size=" + size + " clip=" + claheClipLimit
                    + " tiles=" + claheTiles + " workingScale=" + workingScale);
        }
    }

    /** The paper's settings: 1024 px, CLAHE clip 2.0 on 8×8 tiles. */
    public static PreprocessConfig defaults() {
        return ofSize(DEFAULT_SIZE);
    }

    /** Default settings at another output size (e.g. 256 or 512 for CPU inference). */
    public static PreprocessConfig ofSize(int size) {
        return new PreprocessConfig(size, Clahe.DEFAULT_CLIP_LIMIT, Clahe.DEFAULT_TILES, DEFAULT_WORKING_SCALE, ImageLimits.defaults());
    }

    public PreprocessConfig withSize(int newSize) {
        return new PreprocessConfig(newSize, claheClipLimit, claheTiles, workingScale, limits);
    }

    public PreprocessConfig withWorkingScale(double newWorkingScale) {
        return new PreprocessConfig(size, claheClipLimit, claheTiles, newWorkingScale, limits);
    }

    public PreprocessConfig withLimits(ImageLimits newLimits) {
        return new PreprocessConfig(size, claheClipLimit, claheTiles, workingScale, newLimits);
    }

    /**
     * {@link #VERSION} plus every parameter that changes output pixels, e.g.
     * {@code cxr-preprocess-1;size=1024;clahe=2.0x8;work=2.0}: what a tensor should record as its provenance.
     */
    public String fingerprint() {
        return String.format(Locale.ROOT, "%s;size=%d;clahe=%.2fx%d;work=%.2f", VERSION, size, claheClipLimit, claheTiles, workingScale);
    }
}
