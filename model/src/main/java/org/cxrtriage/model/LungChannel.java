package org.cxrtriage.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.cxrtriage.imaging.HeuristicLungSegmenter;
import org.cxrtriage.imaging.LungSegmenter;
import org.cxrtriage.imaging.PreprocessConfig;
import org.cxrtriage.imaging.Preprocessor;
import org.cxrtriage.imaging.TensorPlanes;

/**
 * Chooses the lung channel: the trained U-Net ({@value #UNET}, the default) or the classical heuristic
 * ({@value #HEURISTIC}), and composes {@link TensorPlanes} with it. The one place the stream, the trainer and the
 * benchmarks get their lung segmenter from, so they cannot drift apart.
 */
public final class LungChannel {
    public static final String UNET = "unet";
    public static final String HEURISTIC = "heuristic";
    public static final String DEFAULT_KIND = UNET;
    /** Relative to the working directory (the repository root for the services and the CLIs). */
    public static final String DEFAULT_MODEL_DIR = "models/lung-unet";

    private LungChannel() {}

    /**
     * Opens a segmenter. A relative {@code modelDir} that does not exist is also looked for one folder up, so the
     * default works from a module folder (tests) as well as from the repository root.
     *
     * @throws IOException if the U-Net directory is missing or does not load
     */
    public static LungSegmenter open(String kind, String modelDir) throws IOException {
        return open(kind, modelDir, 0);
    }

    /**
     * As {@link #open(String, String)}; a U-Net runs each forward pass with {@code intraOpThreads} PyTorch threads on
     * the calling thread (0: the count in force there, see {@link UnetLungSegmenter#withIntraOpThreads}).
     */
    public static LungSegmenter open(String kind, String modelDir, int intraOpThreads) throws IOException {
        return switch (kind.trim().toLowerCase(Locale.ROOT)) {
            case UNET -> UnetLungSegmenter.load(
                    resolve(modelDir == null || modelDir.isBlank() ? DEFAULT_MODEL_DIR : modelDir))
                    .withIntraOpThreads(intraOpThreads);
            case HEURISTIC -> new HeuristicLungSegmenter();
            default -> throw new IllegalArgumentException("lung segmenter must be '" + UNET + "' or '" + HEURISTIC
                    + "', got '" + kind + "'");
        };
    }

    /**
     * The lung-area rule that goes with a segmenter: {@link TensorPlanes#DEFAULT_MIN_LUNG_FRACTION} for the U-Net;
     * 0 (off) for the heuristic, which misses the lungs on some real X-rays.
     */
    public static double defaultMinLungFraction(LungSegmenter segmenter) {
        return segmenter instanceof UnetLungSegmenter ? TensorPlanes.DEFAULT_MIN_LUNG_FRACTION : 0.0;
    }

    /** Preprocessing at {@code size} with this segmenter and its default lung-area rule. */
    public static TensorPlanes planes(int size, LungSegmenter segmenter) {
        return new TensorPlanes(new Preprocessor(PreprocessConfig.ofSize(size)), segmenter,
                defaultMinLungFraction(segmenter));
    }

    /** A relative directory that does not exist here is looked for one folder up (module folders in tests). */
    public static Path resolve(String dir) {
        Path p = Path.of(dir);
        if (!p.isAbsolute() && !Files.exists(p) && Files.exists(Path.of("..").resolve(p))) {
            return Path.of("..").resolve(p);
        }
        return p;
    }
}
