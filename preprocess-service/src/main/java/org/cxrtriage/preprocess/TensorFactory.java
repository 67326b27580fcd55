package org.cxrtriage.preprocess;

import java.nio.ByteBuffer;
import java.time.Clock;
import org.cxrtriage.imaging.InvalidImageException;
import org.cxrtriage.imaging.LungMap;
import org.cxrtriage.imaging.LungSegmenter;
import org.cxrtriage.imaging.PreprocessedImage;
import org.cxrtriage.imaging.Preprocessor;
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

    private final Preprocessor preprocessor;
    private final LungSegmenter lungs;
    private final double minLungFraction;
    private final Clock clock;

    public TensorFactory(Preprocessor preprocessor, LungSegmenter lungs, double minLungFraction,
                         Clock clock) {
        this.preprocessor = preprocessor;
        this.lungs = lungs;
        this.minLungFraction = minLungFraction;
        this.clock = clock;
    }

    public PreprocessOutcome process(String key, ImageReceived image) {
        if (image == null) {
            return PreprocessOutcome.of(reject(key, null, "EMPTY_EVENT", "the image event has no value"));
        }
        try {
            byte[] bytes = toArray(image.getImageBytes());
            PreprocessedImage pre = preprocessor.process(bytes);
            long lungStart = System.nanoTime();
            LungMap lung = lungs.segment(pre.cxr(), pre.size());
            float lungMs = (System.nanoTime() - lungStart) / 1e6f;
            if (lung.lungAreaFraction() < minLungFraction) {
                return PreprocessOutcome.of(reject(key, image, "NO_LUNGS", String.format(
                        "no lungs found (lung area %.3f < %.3f): probably not a chest X-ray",
                        lung.lungAreaFraction(), minLungFraction)));
            }
            return PreprocessOutcome.of(ImageTensor.newBuilder()
                    .setImageId(image.getImageId())
                    .setStudyId(image.getStudyId())
                    .setPatientRef(image.getPatientRef())
                    .setSiteId(image.getSiteId())
                    .setTensorSize(pre.size())
                    .setCxrPlane(ByteBuffer.wrap(pre.cxr()))
                    .setLungPlane(ByteBuffer.wrap(lung.probability()))
                    .setLungAreaFraction((float) lung.lungAreaFraction())
                    .setCropBox(new CropBox(pre.crop().x(), pre.crop().y(), pre.crop().width(), pre.crop().height()))
                    .setOriginalWidth(pre.originalWidth())
                    .setOriginalHeight(pre.originalHeight())
                    .setPreprocessingVersion(preprocessor.config().fingerprint())
                    .setLungModel(lungs.version())
                    .setReceivedAt(image.getReceivedAt())
                    .setPreprocessedAt(clock.instant())
                    .setDecodeMs((float) pre.decodeMs())
                    .setNormaliseMs((float) pre.normaliseMs())
                    .setLungMs(lungMs)
                    .build());
        } catch (InvalidImageException e) {
            return PreprocessOutcome.of(reject(key, image, e.code().name(), e.getMessage()));
        } catch (RuntimeException | OutOfMemoryError e) {
            LOG.error("preprocessing failed for image {}: {}", key, e.toString());
            return PreprocessOutcome.of(reject(key, image, "INTERNAL_ERROR", "preprocessing failed: " + e));
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
