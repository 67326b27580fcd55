package org.cxrtriage.common;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
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
        return process(producer, consumer, consumer.groupMetadata(), records, work, () -> { });
    }

    /**
     * As above, with {@code beforeCommit} run once the batch's offsets are with the group coordinator (pending until
     * the commit) and before the commit: a check that throws aborts the batch. From then on a reader of the group's
     * offsets that waits for pending ones (require stable) sees either this batch committed or it aborted.
     */
    public static boolean process(Producer<?, ?> producer, Consumer<?, ?> consumer,
                                  List<? extends ConsumerRecord<?, ?>> records, Work work, Work beforeCommit) {
        return process(producer, consumer, consumer.groupMetadata(), records, work, beforeCommit);
    }

    /**
     * As above, with the offsets committed for the group generation the records were consumed in. For a batch read
     * over several polls, a rebalance between them may have revoked some of its partitions: committed with the
     * generation of its first poll, the broker refuses the offsets (the generation is stale) and the batch is aborted
     * and read again by whoever owns the partitions now, instead of its scores being published twice.
     */
    public static boolean process(Producer<?, ?> producer, Consumer<?, ?> consumer, ConsumerGroupMetadata consumedIn,
                                  List<? extends ConsumerRecord<?, ?>> records, Work work) {
        return process(producer, consumer, consumedIn, records, work, () -> { });
    }

    private static boolean process(Producer<?, ?> producer, Consumer<?, ?> consumer, ConsumerGroupMetadata consumedIn,
                                   List<? extends ConsumerRecord<?, ?>> records, Work work, Work beforeCommit) {
        producer.beginTransaction();
        try {
            work.run();
            producer.sendOffsetsToTransaction(nextOffsets(records), consumedIn);
            beforeCommit.run();
            commit(producer);
            return true;
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException
                 | UnsupportedVersionException | CommitOutcomeUnknown e) {
            throw e;
        } catch (Exception e) {
            LOG.warn("batch of {} aborted, will be processed again: {}", records.size(), e.toString());
            abort(producer);
            rewindToCommitted(consumer);
            return false;
        }
    }

    /** A commit that kept timing out: whether it happened is unknown, and the producer can only be closed. */
    static final class CommitOutcomeUnknown extends org.apache.kafka.common.KafkaException {
        CommitOutcomeUnknown(Throwable cause) {
            super("the transaction's commit kept timing out; whether it committed is unknown", cause);
        }
    }

    /**
     * Commits, retrying a commit that timed out. Kafka allows nothing else then: the commit may already be completing
     * on the broker, so {@code abortTransaction} would throw {@code IllegalStateException} ("the previous call to
     * commitTransaction timed out and must be retried") and end the caller's worker; the retry finishes the same
     * commit once the broker answers.
     */
    private static void commit(Producer<?, ?> producer) {
        boolean interrupted = false;
        try {
            for (int attempt = 1; ; attempt++) {
                try {
                    producer.commitTransaction();
                    return;
                } catch (org.apache.kafka.common.errors.TimeoutException | InterruptException e) {
                    if (attempt >= 10) {
                        throw new CommitOutcomeUnknown(e);
                    }
                    if (e instanceof InterruptException) {
                        // Shutting down: Kafka set the interrupt flag again; clear it so that the commit can finish,
                        // and pass the interrupt on afterwards.
                        Thread.interrupted();
                        interrupted = true;
                    }
                    LOG.warn("commit did not finish (attempt {}: {}), retrying the same commit", attempt, e.toString());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
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
