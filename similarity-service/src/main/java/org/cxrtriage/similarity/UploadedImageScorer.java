package org.cxrtriage.similarity;

import org.cxrtriage.imaging.InvalidImageException;
import org.cxrtriage.imaging.TensorPlanes;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.ModelMetadata;
import org.cxrtriage.model.Prediction;

/**
 * Scores an image that is not in the pipeline (a clinician's "what does this look like?"): the stream's own
 * preprocessing and lung channel ({@link TensorPlanes}), then the inference model, giving the embedding to search
 * with. Thread-safe: one forward pass at a time.
 */
public final class UploadedImageScorer implements AutoCloseable {

    /** The score of an uploaded image. */
    public record Scored(Prediction prediction, double lungAreaFraction, ModelMetadata model) {
        public boolean positive() {
            return prediction.probability() >= (float) model.threshold();
        }
    }

    /** This service's preprocessing makes other planes than the model was trained on. */
    public static final class PlanesMismatchException extends IllegalStateException {
        PlanesMismatchException(String message) {
            super(message);
        }
    }

    private final TensorPlanes planes;
    private final CxrPredictor predictor;

    /** {@code planes} must be the model's ({@link #requireSamePlanes}, checked before the predictor is made). */
    public UploadedImageScorer(TensorPlanes planes, CxrPredictor predictor) {
        this.planes = planes;
        this.predictor = predictor;
    }

    /**
     * The inference service's rule ({@code PLANES_MISMATCH}) for uploads: a model that records the planes it was
     * trained on scores only those; one that records none scores any.
     */
    public static void requireSamePlanes(ModelMetadata model, TensorPlanes planes) {
        if (!model.takesPlanes(planes.contents())) {
            throw new PlanesMismatchException("model " + model.name() + " " + model.version()
                    + " was trained on planes " + model.planes() + ", this service preprocesses to "
                    + planes.contents() + " (PREPROCESS_*, LUNG_* settings, or MODEL_DIR)");
        }
    }

    /** @throws InvalidImageException when the stream would reject the image (with the same reason) */
    public Scored score(byte[] encoded) throws InvalidImageException {
        TensorPlanes.Planes p = planes.compute(encoded);
        ModelInput input = new ModelInput(p.image().size(), p.image().cxr(), p.lungs().probability());
        Prediction prediction;
        synchronized (predictor) {
            prediction = predictor.predict(input);
        }
        return new Scored(prediction, p.lungs().lungAreaFraction(), predictor.metadata());
    }

    @Override
    public void close() {
        predictor.close();
    }
}
