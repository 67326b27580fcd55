package org.cxrtriage.imaging;

/**
 * The model's input planes for one encoded image: {@link Preprocessor} then the {@link LungSegmenter}, with the
 * "no lungs found" rule. The one composition used by the streaming service and by the trainer, so what a model is
 * trained on is exactly what it is served.
 */
public final class TensorPlanes {

    /**
     * Images whose lung area (U-Net probability ≥ 0.5) is below this are rejected as {@link RejectReason#NO_LUNGS}.
     * Chosen on the shared data: the smallest lung area the U-Net finds on any of the 1,694 real X-rays is far above
     * it, while noise, gradients and flat images give (nearly) none. Applies with the U-Net lung channel; with the
     * heuristic, which misses the lungs on some real X-rays, the rule is off (see {@code LungChannel}).
     */
    public static final double DEFAULT_MIN_LUNG_FRACTION = 0.05;

    /** The preprocessed CXR plane, its lung map and the lung segmentation time. */
    public record Planes(PreprocessedImage image, LungMap lungs, double lungMs) {
    }

    private final Preprocessor preprocessor;
    private final LungSegmenter segmenter;
    private final double minLungFraction;

    public TensorPlanes(Preprocessor preprocessor, LungSegmenter segmenter, double minLungFraction) {
        this.preprocessor = preprocessor;
        this.segmenter = segmenter;
        this.minLungFraction = minLungFraction;
    }

    /**
     * Heuristic lungs without the lung-area rule: a composition that needs no model files (tests, tools). The
     * stream's default, the U-Net, is composed by {@code org.cxrtriage.model.LungChannel}.
     */
    public static TensorPlanes forSize(int size) {
        return new TensorPlanes(new Preprocessor(PreprocessConfig.ofSize(size)), new HeuristicLungSegmenter(), 0.0);
    }

    /** @throws InvalidImageException with the reason, including {@link RejectReason#NO_LUNGS} */
    public Planes compute(byte[] encoded) throws InvalidImageException {
        PreprocessedImage image = preprocessor.process(encoded);
        long start = System.nanoTime();
        LungMap lungs = segmenter.segment(image.cxr(), image.size());
        double lungMs = (System.nanoTime() - start) / 1e6;
        if (lungs.lungAreaFraction() < minLungFraction) {
            throw new InvalidImageException(RejectReason.NO_LUNGS, String.format(java.util.Locale.ROOT,
                    "no lungs found (lung area %.3f < %.3f): probably not a chest X-ray", lungs.lungAreaFraction(),
                    minLungFraction));
        }
        return new Planes(image, lungs, lungMs);
    }

    /** Identifies everything that shapes the planes (preprocessing settings, segmenter version, lung rule). */
    public String fingerprint() {
        return contents() + ";minLung=" + minLungFraction;
    }

    /**
     * What the planes hold: the preprocessing settings and the lung segmenter, without the lung-area rule (which only
     * decides which images are refused). A model records the contents it was trained on; a tensor event carries the
     * two parts ({@code preprocessingVersion}, {@code lungModel}), so its contents are {@link #contents(String, String)}.
     */
    public String contents() {
        return contents(preprocessor.config().fingerprint(), segmenter.version());
    }

    public static String contents(String preprocessingVersion, String lungModel) {
        return preprocessingVersion + ";lungs=" + lungModel;
    }

    public Preprocessor preprocessor() {
        return preprocessor;
    }

    public LungSegmenter segmenter() {
        return segmenter;
    }
}
