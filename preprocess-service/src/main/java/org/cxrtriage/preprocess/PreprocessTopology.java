package org.cxrtriage.preprocess;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;
import org.cxrtriage.schemas.Topic;
import org.cxrtriage.schemas.TopicSerdes;

/**
 * images -> (tensor | rejected). Stateless; the work is in {@link TensorFactory}, the commit rule in
 * {@link PreprocessStep}.
 */
public final class PreprocessTopology {

    private PreprocessTopology() {
    }

    /**
     * @param caughtUpMs an image that reached the stream within this long of its upload is committed at once (see
     *                   {@link PreprocessStep})
     */
    public static Topology build(TopicSerdes serdes, TensorFactory factory, Runnable onTensor, Runnable onRejected,
                                 long caughtUpMs) {
        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, PreprocessOutcome> outcomes = builder
                .stream(Topic.IMAGES.name(), Consumed.with(Serdes.String(), serdes.serde(Topic.IMAGES)))
                .process(() -> new PreprocessStep(factory, caughtUpMs));
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
