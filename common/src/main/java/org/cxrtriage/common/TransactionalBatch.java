package org.cxrtriage.common;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consume-process-produce in one Kafka transaction: a batch's outputs and its consumed offsets commit together or
 * not at all. When anything fails (the broker restarting, Redis gone, a rebalance) the transaction is aborted and the
 * consumer rewound to its committed offsets, so the batch is processed again and its aborted outputs are never seen
 * by read_committed readers: no result is lost and none is published twice.
 */
public final class TransactionalBatch {

    private static final Logger LOG = LoggerFactory.getLogger(TransactionalBatch.class);

    /** The work of one batch: sends its outputs with the given producer (inside the open transaction). */
    @FunctionalInterface
    public interface Work {
        void run() throws Exception;
    }

    private TransactionalBatch() {
    }

    /**
     * Runs {@code work} and commits it with the batch's offsets. Returns true when committed; false when it was
     * aborted and the consumer rewound (the caller backs off and polls again). Throws when the producer can no
     * longer be used (fenced by a newer instance with the same transactional id, or not authorised).
     */
    public static boolean process(Producer<?, ?> producer, Consumer<?, ?> consumer,
                                  List<? extends ConsumerRecord<?, ?>> records, Work work) {
        producer.beginTransaction();
        try {
            work.run();
            producer.sendOffsetsToTransaction(nextOffsets(records), consumer.groupMetadata());
            producer.commitTransaction();
            return true;
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException
                 | UnsupportedVersionException e) {
            throw e;
        } catch (Exception e) {
            LOG.warn("batch of {} aborted, will be processed again: {}", records.size(), e.toString());
            abort(producer);
            rewindToCommitted(consumer);
            return false;
        }
    }

    private static void abort(Producer<?, ?> producer) {
        for (int attempt = 1; ; attempt++) {
            try {
                producer.abortTransaction();
                return;
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                // The broker is away (restarting): aborting may be retried until it answers.
                if (attempt >= 10) {
                    throw e;
                }
                LOG.warn("abort timed out (attempt {}), retrying", attempt);
            }
        }
    }

    /** The offsets after each partition's last record of the batch. */
    public static Map<TopicPartition, OffsetAndMetadata> nextOffsets(List<? extends ConsumerRecord<?, ?>> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<?, ?> r : records) {
            offsets.merge(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        return offsets;
    }

    /** Moves every assigned partition back to its committed offset (the start when nothing was committed). */
    public static void rewindToCommitted(Consumer<?, ?> consumer) {
        Set<TopicPartition> assigned = consumer.assignment();
        if (assigned.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> committed = null;
        for (int attempt = 1; committed == null; attempt++) {
            try {
                committed = consumer.committed(assigned);
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                if (attempt >= 10) {
                    throw e;
                }
                LOG.warn("reading committed offsets timed out (attempt {}), retrying", attempt);
            }
        }
        for (TopicPartition tp : assigned) {
            OffsetAndMetadata o = committed.get(tp);
            if (o != null) {
                consumer.seek(tp, o.offset());
            } else {
                consumer.seekToBeginning(List.of(tp));
            }
        }
    }
}
