package org.cxrtriage.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.cxrtriage.imaging.BadInputCorpus;
import org.cxrtriage.imaging.BadInputCorpus.Entry;
import org.cxrtriage.imaging.DicomDeidentifier;
import org.cxrtriage.imaging.HeuristicLungSegmenter;
import org.cxrtriage.imaging.PreprocessConfig;
import org.cxrtriage.imaging.Preprocessor;
import org.cxrtriage.imaging.TensorPlanes;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.ImageReceived;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.PlainAvroSerdes;
import org.cxrtriage.schemas.Stage;
import org.cxrtriage.schemas.Topic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The bad-input corpus through the preprocessing topology: every image ingest would publish ends as a tensor or as a
 * {@link CxrRejected} with its stated reason (never INTERNAL_ERROR), and a good image after all of them still becomes a
 * tensor. Preprocessing does not rely on ingest: the refused entries are piped in raw too.
 */
class CorpusTopologyTest {

    private static final int SIZE = 64;
    private final PlainAvroSerdes serdes = new PlainAvroSerdes();
    private TopologyTestDriver driver;
    private TestInputTopic<String, ImageReceived> images;
    private TestOutputTopic<String, ImageTensor> tensors;
    private TestOutputTopic<String, CxrRejected> rejected;

    @BeforeEach
    void setUp() {
        TensorFactory factory = new TensorFactory(new TensorPlanes(
                new Preprocessor(PreprocessConfig.ofSize(SIZE).withLimits(BadInputCorpus.LIMITS)), new HeuristicLungSegmenter(),
                TensorPlanes.DEFAULT_MIN_LUNG_FRACTION), Clock.systemUTC());
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "preprocess-corpus-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(PreprocessTopology.build(serdes, factory, () -> { }, () -> { }, 50), props);
        images = driver.createInputTopic(Topic.IMAGES.name(), Serdes.String().serializer(),
                serdes.serde(Topic.IMAGES).serializer());
        tensors = driver.createOutputTopic(Topic.TENSORS.name(), Serdes.String().deserializer(),
                serdes.serde(Topic.TENSORS).deserializer());
        rejected = driver.createOutputTopic(Topic.REJECTED.name(), Serdes.String().deserializer(),
                serdes.serde(Topic.REJECTED).deserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    private static ImageReceived event(String id, byte[] bytes) {
        return ImageReceived.newBuilder().setImageId(id).setStudyId("study").setPatientRef("p-1").setSiteId("site")
                .setViewPosition("PA").setReceivedAt(Instant.ofEpochMilli(1000)).setContentType("application/octet-stream")
                .setSha256("x").setWidth(1).setHeight(1).setImageBytes(ByteBuffer.wrap(bytes)).build();
    }

    /** What ingest publishes for an accepted entry: the bytes, de-identified when DICOM. */
    private static byte[] published(Entry e) {
        return e.isDicom() ? DicomDeidentifier.strip(e.bytes()) : e.bytes();
    }

    private void assertOutcome(String id, String expected) {
        if (BadInputCorpus.TENSOR.equals(expected)) {
            assertThat(rejected.isEmpty()).as(id + " rejected: " + (rejected.isEmpty() ? "" : rejected.readValue())).isTrue();
            ImageTensor t = tensors.readValue();
            assertThat(t.getImageId()).isEqualTo(id);
            assertThat(t.getCxrPlane().remaining()).isEqualTo(SIZE * SIZE);
        } else {
            assertThat(tensors.isEmpty()).as(id + " became a tensor").isTrue();
            CxrRejected r = rejected.readValue();
            assertThat(r.getImageId()).isEqualTo(id);
            assertThat(r.getStage()).isEqualTo(Stage.PREPROCESS);
            assertThat(r.getReasonCode()).as(id + ": " + r.getMessage()).isEqualTo(expected);
        }
    }

    @Test
    void everyAcceptedEntryEndsAsATensorOrARejectionWithItsReason() {
        List<Entry> accepted = BadInputCorpus.entries().stream().filter(Entry::accepted).toList();
        assertThat(accepted).hasSizeGreaterThanOrEqualTo(10);
        for (Entry e : accepted) {
            images.pipeInput(e.name(), event(e.name(), published(e)));
            assertOutcome(e.name(), e.preprocess());
        }
        images.pipeInput("good", event("good", BadInputCorpus.goodChestPng()));
        assertOutcome("good", BadInputCorpus.TENSOR);
    }

    @Test
    void refusedEntriesPipedInDirectlyAreRejectedToo() {
        for (Entry e : BadInputCorpus.entries()) {
            if (e.accepted()) {
                continue;
            }
            images.pipeInput(e.name(), event(e.name(), e.bytes()));
            assertOutcome(e.name(), e.preprocess());
        }
        images.pipeInput("good", event("good", BadInputCorpus.goodChestPng()));
        assertOutcome("good", BadInputCorpus.TENSOR);
    }
}
