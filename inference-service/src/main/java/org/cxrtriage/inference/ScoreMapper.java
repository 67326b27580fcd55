package org.cxrtriage.inference;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.cxrtriage.imaging.TensorPlanes;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.ModelMetadata;
import org.cxrtriage.model.Prediction;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.CxrScore;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.Stage;

/** Converts between the topic contracts and the model's plain types. No Kafka, no DJL. */
public final class ScoreMapper {

    /** Reason codes of the inference stage's rejections (topic cxr.rejected.v1, stage INFERENCE). */
    public static final String BAD_TENSOR = "BAD_TENSOR";
    public static final String PLANES_MISMATCH = "PLANES_MISMATCH";
    public static final String INFERENCE_FAILED = "INFERENCE_FAILED";

    private ScoreMapper() {
    }

    /** The model input of a tensor event that {@link #refusal} accepted. */
    public static ModelInput toInput(ImageTensor t) {
        return new ModelInput(t.getTensorSize(), bytes(t.getCxrPlane()), bytes(t.getLungPlane()));
    }

    public static CxrScore toScore(ImageTensor t, Prediction p, ModelMetadata model, Instant scoredAt,
                                   float batchMs, int batchSize) {
        List<Float> embedding = new ArrayList<>(p.embedding().length);
        for (float v : p.embedding()) {
            embedding.add(v);
        }
        return CxrScore.newBuilder()
                .setImageId(t.getImageId())
                .setStudyId(t.getStudyId())
                .setPatientRef(t.getPatientRef())
                .setSiteId(t.getSiteId())
                .setProbability(p.probability())
                // Compared in float, the precision the threshold is published with, so p == threshold is positive.
                .setPositive(p.probability() >= (float) model.threshold())
                .setThreshold((float) model.threshold())
                .setModelName(model.name())
                .setModelVersion(model.version())
                .setEmbedding(embedding)
                .setReceivedAt(t.getReceivedAt())
                .setScoredAt(scoredAt)
                .setInferenceMs(batchMs)
                .setBatchSize(batchSize)
                .build();
    }

    /**
     * Why the model cannot score this tensor, or null when it can: planes that do not match the declared size
     * ({@code BAD_TENSOR}), or planes other than those the model was trained on ({@code PLANES_MISMATCH}: another
     * preprocessing or lung segmenter would give scores nobody validated; a model that records no planes takes any).
     */
    public static CxrRejected refusal(ImageTensor t, ModelMetadata model, Instant now) {
        int size = t.getTensorSize();
        long area = (long) size * size; // in long: 65536² is 0 in int
        if (size <= 0 || t.getCxrPlane().remaining() != area || t.getLungPlane().remaining() != area) {
            return rejected(t, BAD_TENSOR, "tensor planes do not match tensorSize " + size, now);
        }
        String planes = planesOf(t);
        if (!model.takesPlanes(planes)) {
            return rejected(t, PLANES_MISMATCH, "model " + model.name() + " " + model.version()
                    + " was trained on planes " + model.planes() + ", this image was preprocessed to " + planes
                    + ": run the preprocess service with the model's settings, or set MODEL_DIR to a model trained on"
                    + " these planes, then replay the image", now);
        }
        return null;
    }

    /** What a tensor's planes hold, in the form a model records ({@link TensorPlanes#contents()}). */
    public static String planesOf(ImageTensor t) {
        return TensorPlanes.contents(t.getPreprocessingVersion(), t.getLungModel());
    }

    public static CxrRejected badTensor(ImageTensor t, Exception e, Instant now) {
        return rejected(t, BAD_TENSOR, "tensor could not be read: " + e.getMessage(), now);
    }

    public static CxrRejected inferenceFailed(ImageTensor t, Exception e, Instant now) {
        return rejected(t, INFERENCE_FAILED, "the model could not score this image: " + e.getMessage(), now);
    }

    private static CxrRejected rejected(ImageTensor t, String code, String message, Instant now) {
        return CxrRejected.newBuilder()
                .setImageId(t.getImageId())
                .setStage(Stage.INFERENCE)
                .setReasonCode(code)
                .setMessage(message)
                .setStudyId(t.getStudyId())
                .setPatientRef(t.getPatientRef())
                .setSiteId(t.getSiteId())
                .setReceivedAt(t.getReceivedAt())
                .setRejectedAt(now)
                .build();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
