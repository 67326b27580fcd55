package org.cxrtriage.inference;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.ModelMetadata;
import org.cxrtriage.model.Prediction;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.CxrScore;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.Stage;

/** Converts between the topic contracts and the model's plain types. No Kafka, no DJL. */
public final class ScoreMapper {

    private ScoreMapper() {
    }

    /** The model input of a tensor event, or null when the planes do not match the declared size. */
    public static ModelInput toInput(ImageTensor t) {
        int size = t.getTensorSize();
        byte[] cxr = bytes(t.getCxrPlane());
        byte[] lung = bytes(t.getLungPlane());
        if (size <= 0 || cxr.length != size * size || lung.length != size * size) {
            return null;
        }
        return new ModelInput(size, cxr, lung);
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

    public static CxrRejected badTensor(ImageTensor t, Instant now) {
        return rejected(t, "BAD_TENSOR", "tensor planes do not match tensorSize " + t.getTensorSize(), now);
    }

    public static CxrRejected inferenceFailed(ImageTensor t, Exception e, Instant now) {
        return rejected(t, "INFERENCE_FAILED", "the model could not score this image: " + e.getMessage(), now);
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
