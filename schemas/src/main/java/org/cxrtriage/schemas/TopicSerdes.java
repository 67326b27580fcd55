package org.cxrtriage.schemas;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;

/** Gives the value serde of a topic; topologies take this so tests can run without a registry. */
public interface TopicSerdes {
    <V extends SpecificRecord> Serde<V> serde(Topic<V> topic);
}
