package org.cxrtriage.preprocess;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.cxrtriage.common.Settings;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.ImageReceived;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.PlainAvroSerdes;
import org.cxrtriage.schemas.Stage;
import org.cxrtriage.schemas.Topic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PreprocessTopologyTest {

    private static final int SIZE = 128;
    private final PlainAvroSerdes serdes = new PlainAvroSerdes();
    private final AtomicInteger tensorCount = new AtomicInteger();
    private final AtomicInteger rejectedCount = new AtomicInteger();
    private TopologyTestDriver driver;
    private TestInputTopic<String, ImageReceived> images;
    private TestOutputTopic<String, ImageTensor> tensors;
    private TestOutputTopic<String, CxrRejected> rejected;

    @BeforeEach
    void setUp() {
        TensorFactory factory = PreprocessService.tensorFactory(
                Settings.of(java.util.Map.of(PreprocessService.TENSOR_SIZE, String.valueOf(SIZE))));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "preprocess-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(PreprocessTopology.build(serdes, factory, tensorCount::incrementAndGet,
                rejectedCount::incrementAndGet, 50), props);
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

    private static ImageReceived image(String id, byte[] bytes) {
        return ImageReceived.newBuilder().setImageId(id).setStudyId("study").setPatientRef("p-1").setSiteId("site")
                .setViewPosition("PA").setReceivedAt(Instant.ofEpochMilli(1000)).setContentType("image/png")
                .setSha256("x").setWidth(1).setHeight(1).setImageBytes(ByteBuffer.wrap(bytes)).build();
    }

    @Test
    void aChestXrayBecomesTwoPlanesOfTheConfiguredSize() {
        images.pipeInput("img-1", image("img-1", SyntheticChest.png(300, 260, 1)));

        ImageTensor t = tensors.readValue();
        assertThat(t.getImageId()).isEqualTo("img-1");
        assertThat(t.getTensorSize()).isEqualTo(SIZE);
        assertThat(t.getCxrPlane().remaining()).isEqualTo(SIZE * SIZE);
        assertThat(t.getLungPlane().remaining()).isEqualTo(SIZE * SIZE);
        assertThat(t.getLungAreaFraction()).isBetween(0.05f, 0.7f);
        assertThat(t.getOriginalWidth()).isEqualTo(300);
        assertThat(t.getPatientRef()).isEqualTo("p-1");
        assertThat(rejected.isEmpty()).isTrue();
    }

    @Test
    void badRecordsAreRejectedWithAReasonAndTheStreamKeepsGoing() {
        byte[] good = SyntheticChest.png(300, 260, 2);
        images.pipeInput("corrupt", image("corrupt", Arrays.copyOf(good, good.length / 2)));
        images.pipeInput("text", image("text", "not an image".getBytes()));
        images.pipeInput("tiny", image("tiny", SyntheticChest.png(10, 10, 3)));
        images.pipeInput("tombstone", (ImageReceived) null);
        images.pipeInput("good", image("good", good));

        List<CxrRejected> out = rejected.readValuesToList();
        assertThat(out).extracting(CxrRejected::getImageId).containsExactly("corrupt", "text", "tiny", "tombstone");
        assertThat(out).extracting(CxrRejected::getReasonCode)
                .containsExactly("TRUNCATED_OR_CORRUPT", "NOT_AN_IMAGE", "TOO_SMALL", "EMPTY_EVENT");
        assertThat(out).allSatisfy(r -> {
            assertThat(r.getStage()).isEqualTo(Stage.PREPROCESS);
            assertThat(r.getMessage()).isNotBlank();
        });
        assertThat(tensors.readValuesToList()).extracting(ImageTensor::getImageId).containsExactly("good");
        assertThat(tensorCount).hasValue(1);
        assertThat(rejectedCount).hasValue(4);
    }
}
