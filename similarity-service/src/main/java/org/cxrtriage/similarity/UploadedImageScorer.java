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

    private final TensorPlanes planes;
    private final CxrPredictor predictor;

    public UploadedImageScorer(TensorPlanes planes, CxrPredictor predictor) {
        this.planes = planes;
        this.predictor = predictor;
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
