package org.cxrtriage.preprocess;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;
import org.cxrtriage.schemas.ImageReceived;
import org.cxrtriage.schemas.Topic;
import org.cxrtriage.schemas.TopicSerdes;

/** images -> (tensor | rejected). Stateless; the work is in {@link TensorFactory}. */
public final class PreprocessTopology {

    private PreprocessTopology() {
    }

    public static Topology build(TopicSerdes serdes, TensorFactory factory, Runnable onTensor, Runnable onRejected) {
        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, PreprocessOutcome> outcomes = builder
                .stream(Topic.IMAGES.name(), Consumed.with(Serdes.String(), serdes.serde(Topic.IMAGES)))
                .mapValues((key, image) -> factory.process(key, (ImageReceived) image));
        outcomes.filter((k, o) -> o.ok())
                .mapValues(PreprocessOutcome::tensor)
                .peek((k, v) -> onTensor.run())
                .to(Topic.TENSORS.name(), Produced.with(Serdes.String(), serdes.serde(Topic.TENSORS)));
        outcomes.filter((k, o) -> !o.ok())
                .mapValues(PreprocessOutcome::rejected)
                .peek((k, v) -> onRejected.run())
                .to(Topic.REJECTED.name(), Produced.with(Serdes.String(), serdes.serde(Topic.REJECTED)));
        return builder.build();
    }
}
