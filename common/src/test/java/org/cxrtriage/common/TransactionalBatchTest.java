package org.cxrtriage.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TransactionalBatchTest {

    private static final TopicPartition IN = new TopicPartition("cxr.tensors.v1", 0);

    /**
     * A producer whose commits time out a given number of times first, and which refuses an abort after a timed-out
     * commit, as {@code KafkaProducer} does ("the previous call to commitTransaction timed out and must be retried").
     */
    private static final class SlowCommitProducer extends MockProducer<String, String> {
        int timeoutsLeft;
        int commitCalls;
        boolean commitTimedOut;
        ConsumerGroupMetadata offsetsSentWith;

        SlowCommitProducer(int timeouts) {
            super(true, null, new StringSerializer(), new StringSerializer());
            this.timeoutsLeft = timeouts;
            initTransactions();
        }

        @Override
        public synchronized void commitTransaction() {
            commitCalls++;
            if (timeoutsLeft-- > 0) {
                commitTimedOut = true;
                throw new TimeoutException("Timeout expired after 60000ms while awaiting EndTxn(true)");
            }
            commitTimedOut = false;
            super.commitTransaction();
        }

        @Override
        public synchronized void sendOffsetsToTransaction(Map<TopicPartition, OffsetAndMetadata> offsets,
                                                          ConsumerGroupMetadata group) {
            offsetsSentWith = group;
            super.sendOffsetsToTransaction(offsets, group);
        }

        @Override
        public synchronized void abortTransaction() {
            if (commitTimedOut) {
                throw new IllegalStateException("Cannot attempt operation `abortTransaction` because the previous "
                        + "call to `commitTransaction` timed out and must be retried");
            }
            super.abortTransaction();
        }
    }

    private MockConsumer<String, String> consumer;
    private final List<ConsumerRecord<String, String>> batch =
            List.of(new ConsumerRecord<>(IN.topic(), IN.partition(), 7, "k", "v"));

    @BeforeEach
    void consumer() {
        consumer = new MockConsumer<>("earliest");
        consumer.assign(List.of(IN));
        consumer.updateBeginningOffsets(Map.of(IN, 0L));
    }

    @Test
    void aCommitThatTimesOutIsRetriedNotAborted() {
        SlowCommitProducer producer = new SlowCommitProducer(2);

        boolean committed = TransactionalBatch.process(producer, consumer, batch,
                () -> producer.send(new ProducerRecord<>("cxr.scores.v1", "k", "score")));

        assertThat(committed).isTrue();
        assertThat(producer.commitCalls).isEqualTo(3);
        assertThat(producer.transactionCommitted()).isTrue();
        assertThat(producer.transactionAborted()).isFalse();
        assertThat(producer.history()).extracting(ProducerRecord::value).containsExactly("score");
        assertThat(producer.consumerGroupOffsetsHistory()).hasSize(1);
        assertThat(producer.consumerGroupOffsetsHistory().get(0).values().iterator().next())
                .containsEntry(IN, new OffsetAndMetadata(8));
    }

    @Test
    void aCommitThatNeverFinishesEndsTheProducerRatherThanAbortingIt() {
        SlowCommitProducer producer = new SlowCommitProducer(Integer.MAX_VALUE);

        assertThatThrownBy(() -> TransactionalBatch.process(producer, consumer, batch, () -> { }))
                .isInstanceOf(TransactionalBatch.CommitOutcomeUnknown.class)
                .hasCauseInstanceOf(TimeoutException.class);
        assertThat(producer.commitCalls).isEqualTo(10);
    }

    @Test
    void aFailedBatchIsAbortedAndTheConsumerRewound() {
        SlowCommitProducer producer = new SlowCommitProducer(0);
        consumer.commitSync(Map.of(IN, new OffsetAndMetadata(5)));
        consumer.seek(IN, 8);

        boolean committed = TransactionalBatch.process(producer, consumer, batch, () -> {
            producer.send(new ProducerRecord<>("cxr.scores.v1", "k", "score"));
            throw new IllegalStateException("Redis went away");
        });

        assertThat(committed).isFalse();
        assertThat(producer.transactionAborted()).isTrue();
        assertThat(producer.history()).as("aborted sends are not published").isEmpty();
        assertThat(consumer.position(IN)).as("back to the committed offset").isEqualTo(5);
    }

    @Test
    void theOffsetsGoWithTheGenerationTheBatchWasConsumedIn() {
        SlowCommitProducer producer = new SlowCommitProducer(0);
        ConsumerGroupMetadata first = new ConsumerGroupMetadata("cxr-inference", 3, "member-1", Optional.empty());

        TransactionalBatch.process(producer, consumer, first, batch, () -> { });

        assertThat(producer.offsetsSentWith).isSameAs(first);
        assertThat(consumer.groupMetadata().generationId()).as("not the consumer's generation now").isNotEqualTo(3);
    }

    @Test
    void aCheckThatFailsOnceTheOffsetsArePendingAbortsTheBatch() {
        SlowCommitProducer producer = new SlowCommitProducer(0);
        consumer.commitSync(Map.of(IN, new OffsetAndMetadata(5)));
        consumer.seek(IN, 8);
        java.util.concurrent.atomic.AtomicBoolean offsetsWerePending = new java.util.concurrent.atomic.AtomicBoolean();

        boolean committed = TransactionalBatch.process(producer, consumer, batch,
                () -> producer.send(new ProducerRecord<>("cxr.alerts.v1", "k", "alert")), () -> {
                    offsetsWerePending.set(producer.offsetsSentWith != null);
                    throw new IllegalStateException("the store was replaced during the batch");
                });

        assertThat(offsetsWerePending).as("checked after the offsets went to the transaction").isTrue();
        assertThat(committed).isFalse();
        assertThat(producer.transactionAborted()).isTrue();
        assertThat(producer.commitCalls).isZero();
        assertThat(producer.history()).isEmpty();
        assertThat(consumer.position(IN)).isEqualTo(5);
    }
}
