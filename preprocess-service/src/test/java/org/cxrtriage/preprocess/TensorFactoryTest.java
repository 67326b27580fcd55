package org.cxrtriage.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.EngineException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.cxrtriage.imaging.HeuristicLungSegmenter;
import org.cxrtriage.imaging.LungMap;
import org.cxrtriage.imaging.LungSegmenter;
import org.cxrtriage.imaging.PreprocessConfig;
import org.cxrtriage.imaging.Preprocessor;
import org.cxrtriage.imaging.TensorPlanes;
import org.cxrtriage.schemas.ImageReceived;
import org.junit.jupiter.api.Test;

class TensorFactoryTest {

    /** The heuristic segmenter, failing its first {@code failures} calls the way a native engine out of memory does. */
    private static LungSegmenter failingFirst(int failures, AtomicInteger calls) {
        LungSegmenter real = new HeuristicLungSegmenter();
        return new LungSegmenter() {
            @Override
            public LungMap segment(byte[] cxr, int size) {
                if (calls.incrementAndGet() <= failures) {
                    throw new EngineException("CUDA out of memory. Tried to allocate 2.00 MiB");
                }
                return real.segment(cxr, size);
            }

            @Override
            public String version() {
                return real.version();
            }
        };
    }

    private static TensorFactory factory(LungSegmenter segmenter) {
        return new TensorFactory(new TensorPlanes(new Preprocessor(PreprocessConfig.ofSize(64)), segmenter, 0),
                Clock.systemUTC());
    }

    private static ImageReceived image() {
        return ImageReceived.newBuilder().setImageId("img-1").setStudyId("study").setPatientRef("p-1")
                .setSiteId("site").setViewPosition("PA").setReceivedAt(Instant.ofEpochMilli(1000))
                .setContentType("image/png").setSha256("x").setWidth(1).setHeight(1)
                .setImageBytes(ByteBuffer.wrap(SyntheticChest.png(256, 256, 7))).build();
    }

    @Test
    void anEngineOutOfMemoryOnceIsTriedAgainAndTheImageIsNotRejected() {
        AtomicInteger calls = new AtomicInteger();
        PreprocessOutcome outcome = factory(failingFirst(1, calls)).process("img-1", image());

        assertThat(outcome.ok()).as("%s", outcome.rejected()).isTrue();
        assertThat(calls).hasValue(2);
    }

    @Test
    void aFailureThatPersistsIsRejectedWithTheReason() {
        AtomicInteger calls = new AtomicInteger();
        PreprocessOutcome outcome = factory(failingFirst(Integer.MAX_VALUE, calls)).process("img-1", image());

        assertThat(outcome.ok()).isFalse();
        assertThat(outcome.rejected().getReasonCode()).isEqualTo("INTERNAL_ERROR");
        assertThat(outcome.rejected().getMessage()).contains("CUDA out of memory");
        assertThat(calls).as("tried twice, not for ever").hasValue(2);
    }
}
