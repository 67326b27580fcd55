package org.cxrtriage.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.cxrtriage.common.Settings;
import org.cxrtriage.schemas.ImageReceived;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PreprocessStepTest {

    private static final long NOW = 1_800_000_000_000L;
    private static final TensorFactory FACTORY = PreprocessService.tensorFactory(Settings.of(java.util.Map.of(
            PreprocessService.TENSOR_SIZE, "64", PreprocessService.LUNG_SEGMENTER, "heuristic")));

    private MockProcessorContext<String, PreprocessOutcome> context;
    private PreprocessStep step;

    @BeforeEach
    void init() {
        context = new MockProcessorContext<>();
        context.setCurrentSystemTimeMs(NOW);
        step = new PreprocessStep(FACTORY, 50);
        step.init(context);
    }

    /** An upload that is not an image: its outcome is a rejection, which is all this step needs. */
    private static Record<String, ImageReceived> uploadSentAt(long sentAtMs) {
        ImageReceived image = ImageReceived.newBuilder().setImageId("img").setStudyId("s").setPatientRef("p")
                .setSiteId("site").setViewPosition("PA").setReceivedAt(Instant.ofEpochMilli(sentAtMs))
                .setContentType("image/png").setSha256("x").setWidth(1).setHeight(1)
                .setImageBytes(ByteBuffer.wrap("not an image".getBytes(StandardCharsets.US_ASCII))).build();
        return new Record<>("img", image, sentAtMs);
    }

    @Test
    void anImageThatDidNotQueueIsCommittedAtOnce() {
        step.process(uploadSentAt(NOW - 50));
        assertThat(context.forwarded()).singleElement()
                .satisfies(f -> assertThat(f.record().value().ok()).isFalse());
        assertThat(context.committed()).isTrue();
    }

    @Test
    void anImageThatQueuedWaitsForTheCommitInterval() {
        step.process(uploadSentAt(NOW - 51));
        assertThat(context.forwarded()).hasSize(1);
        assertThat(context.committed()).isFalse();
    }

    @Test
    void aClockBehindTheIngestHostStillCommitsAtOnce() {
        step.process(uploadSentAt(NOW + 2_000));
        assertThat(context.committed()).isTrue();
    }
}
