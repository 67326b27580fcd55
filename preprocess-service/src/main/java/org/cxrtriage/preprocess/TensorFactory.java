package org.cxrtriage.preprocess;

import java.nio.ByteBuffer;
import java.time.Clock;
import org.cxrtriage.imaging.InvalidImageException;
import org.cxrtriage.imaging.PreprocessedImage;
import org.cxrtriage.imaging.TensorPlanes;
import org.cxrtriage.schemas.CropBox;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.ImageReceived;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.Stage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one received image into the model's tensor planes, or into a rejection with a reason. Never throws: one bad
 * record must not stop the stream.
 */
public final class TensorFactory {

    private static final Logger LOG = LoggerFactory.getLogger(TensorFactory.class);
    private static final long RESOURCE_RETRY_PAUSE_MS = 500;

    private final TensorPlanes planes;
    private final Clock clock;

    public TensorFactory(TensorPlanes planes, Clock clock) {
        this.planes = planes;
        this.clock = clock;
    }

    /** The composition of preprocessing and lung channel this factory applies (also used for uploaded queries). */
    public TensorPlanes planes() {
        return planes;
    }

    public PreprocessOutcome process(String key, ImageReceived image) {
        if (image == null) {
            return PreprocessOutcome.of(reject(key, null, "EMPTY_EVENT", "the image event has no value"));
        }
        try {
            TensorPlanes.Planes p = computeRetryingOnce(key, toArray(image.getImageBytes()));
            PreprocessedImage pre = p.image();
            return PreprocessOutcome.of(ImageTensor.newBuilder()
                    .setImageId(image.getImageId())
                    .setStudyId(image.getStudyId())
                    .setPatientRef(image.getPatientRef())
                    .setSiteId(image.getSiteId())
                    .setTensorSize(pre.size())
                    .setCxrPlane(ByteBuffer.wrap(pre.cxr()))
                    .setLungPlane(ByteBuffer.wrap(p.lungs().probability()))
                    .setLungAreaFraction((float) p.lungs().lungAreaFraction())
                    .setCropBox(new CropBox(pre.crop().x(), pre.crop().y(), pre.crop().width(), pre.crop().height()))
                    .setOriginalWidth(pre.originalWidth())
                    .setOriginalHeight(pre.originalHeight())
                    .setPreprocessingVersion(planes.preprocessor().config().fingerprint())
                    .setLungModel(planes.segmenter().version())
                    .setReceivedAt(image.getReceivedAt())
                    .setPreprocessedAt(clock.instant())
                    .setDecodeMs((float) pre.decodeMs())
                    .setNormaliseMs((float) pre.normaliseMs())
                    .setLungMs((float) p.lungMs())
                    .build());
        } catch (InvalidImageException e) {
            return PreprocessOutcome.of(reject(key, image, e.code().name(), e.getMessage()));
        } catch (RuntimeException | OutOfMemoryError e) {
            LOG.error("preprocessing failed for image {}: {}", key, e.toString());
            return PreprocessOutcome.of(reject(key, image, "INTERNAL_ERROR", "preprocessing failed: " + e));
        }
    }

    /**
     * The planes; a failure for want of resources (heap, or the engine's native or GPU memory while other stream
     * threads hold large images) is tried once more after a pause before the image is rejected: it says nothing about
     * the image, and a rejection is final.
     */
    private TensorPlanes.Planes computeRetryingOnce(String key, byte[] bytes) {
        try {
            return planes.compute(bytes);
        } catch (OutOfMemoryError | ai.djl.engine.EngineException e) {
            LOG.warn("preprocessing image {} ran out of resources ({}); trying once more", key, e.toString());
            try {
                Thread.sleep(RESOURCE_RETRY_PAUSE_MS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw e;
            }
            return planes.compute(bytes);
        }
    }

    private CxrRejected reject(String key, ImageReceived image, String code, String message) {
        CxrRejected.Builder b = CxrRejected.newBuilder()
                .setImageId(image != null ? image.getImageId() : key == null ? "unknown" : key)
                .setStage(Stage.PREPROCESS)
                .setReasonCode(code)
                .setMessage(message)
                .setRejectedAt(clock.instant());
        if (image != null) {
            b.setStudyId(image.getStudyId()).setPatientRef(image.getPatientRef()).setSiteId(image.getSiteId())
                    .setViewPosition(image.getViewPosition()).setContentType(image.getContentType())
                    .setReceivedAt(image.getReceivedAt());
        }
        return b.build();
    }

    private static byte[] toArray(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
