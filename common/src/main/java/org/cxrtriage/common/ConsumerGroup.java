package org.cxrtriage.common;

import java.util.List;

/** A service's Kafka consumer group (a Streams application's id is its group) and the topics it reads. */
public record ConsumerGroup(String id, List<String> topics) {

    public ConsumerGroup {
        topics = List.copyOf(topics);
    }
}
