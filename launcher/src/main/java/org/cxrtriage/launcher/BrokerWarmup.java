package org.cxrtriage.launcher;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.Settings;

/**
 * Puts a freshly started broker through the pipeline's pattern of requests before the benchmark times anything: a
 * production broker has run for weeks and compiled its hot paths long ago, the benchmark's starts cold. One image-sized
 * record at a time goes through two exactly-once stages as the pipeline's go (ingest's idempotent send; a
 * read_committed consumer whose output and offsets commit in one transaction, twice; a final read_committed consumer),
 * on scratch topics that are deleted afterwards. Costs the broker's CPU and this process's, no model or image work.
 */
final class BrokerWarmup {
    private static final Duration POLL = Duration.ofMillis(100);
    /** A record that has not come through in this long will not: the broker is in trouble, and so is the benchmark. */
    private static final Duration STUCK = Duration.ofSeconds(30);

    private BrokerWarmup() {
    }

    /** What one warm-up did: records through both stages, and how long it took. */
    record Result(long records, double seconds) {
        double perSecond() {
            return records / seconds;
        }
    }

    /**
     * Runs {@code lanes} independent chains of topics at once (one thread each) for about {@code duration}.
     *
     * @param recordBytes the size of each record (an uploaded X-ray is ~90 KB, its tensor ~200 KB)
     */
    static Result run(Settings settings, Duration duration, int lanes, int recordBytes) throws Exception {
        String run = "cxr.bench-broker-warmup." + System.currentTimeMillis();
        List<String> topics = new ArrayList<>();
        for (int lane = 0; lane < lanes; lane++) {
            for (String stage : List.of("in", "mid", "out")) {
                topics.add(run + "." + lane + "." + stage);
            }
        }
        try (Admin admin = Admin.create(KafkaSettings.base(settings, "bench-warmup-admin"))) {
            admin.createTopics(topics.stream().map(t -> new NewTopic(t, 1, (short) 1)).toList()).all().get();
            long start = System.nanoTime();
            long end = start + duration.toNanos();
            ExecutorService pool = Executors.newFixedThreadPool(lanes);
            try {
                List<Future<Long>> done = new ArrayList<>();
                for (int lane = 0; lane < lanes; lane++) {
                    String prefix = run + "." + lane + ".";
                    done.add(pool.submit(() -> lane(settings, prefix, end, recordBytes)));
                }
                long records = 0;
                for (Future<Long> f : done) {
                    records += f.get();
                }
                return new Result(records, (System.nanoTime() - start) / 1e9);
            } finally {
                pool.shutdownNow();
                admin.deleteTopics(topics).all().get();
            }
        }
    }

    /** One chain: in → (transaction) → mid → (transaction) → out → final consumer, one record at a time. */
    private static long lane(Settings settings, String prefix, long endNanos, int recordBytes) throws Exception {
        byte[] payload = new byte[recordBytes];
        new Random(prefix.hashCode()).nextBytes(payload); // incompressible, as image bytes are
        try (KafkaProducer<byte[], byte[]> ingest = producer(KafkaSettings.producer(settings, prefix + "ingest", 0));
             Stage first = new Stage(settings, prefix, "in", "mid");
             Stage second = new Stage(settings, prefix, "mid", "out");
             KafkaConsumer<byte[], byte[]> last = consumer(settings, prefix + "last")) {
            last.subscribe(Set.of(prefix + "out"));
            long records = 0;
            while (System.nanoTime() < endNanos) {
                byte[] key = ("w" + records).getBytes(StandardCharsets.UTF_8);
                ingest.send(new ProducerRecord<>(prefix + "in", key, payload)).get();
                first.passOn(key);
                second.passOn(key);
                long deadline = System.nanoTime() + STUCK.toNanos();
                while (!contains(last.poll(POLL), key)) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("broker warm-up: a record did not arrive within " + STUCK);
                    }
                }
                last.commitSync();
                records++;
            }
            return records;
        }
    }

    /** A consume-transform-produce stage with exactly-once commits, as the stream and the inference service run. */
    private static final class Stage implements AutoCloseable {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final KafkaProducer<byte[], byte[]> producer;
        private final String to;

        Stage(Settings settings, String prefix, String from, String to) {
            this.consumer = consumer(settings, prefix + from);
            this.consumer.subscribe(Set.of(prefix + from));
            this.producer = producer(KafkaSettings.transactionalProducer(settings, prefix + from + "-stage",
                    prefix + from + "-txn"));
            this.producer.initTransactions();
            this.to = prefix + to;
        }

        /** Polls until the record with this key arrives, and passes it on in a transaction with its offset. */
        void passOn(byte[] key) {
            long deadline = System.nanoTime() + STUCK.toNanos();
            while (true) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("broker warm-up: a record did not arrive within " + STUCK);
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                if (records.isEmpty()) {
                    continue;
                }
                producer.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                boolean found = false;
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    producer.send(new ProducerRecord<>(to, r.key(), r.value()));
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                    found |= Arrays.equals(r.key(), key);
                }
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                producer.commitTransaction();
                if (found) {
                    return;
                }
            }
        }

        @Override
        public void close() {
            producer.close();
            consumer.close();
        }
    }

    private static boolean contains(ConsumerRecords<byte[], byte[]> records, byte[] key) {
        for (ConsumerRecord<byte[], byte[]> r : records) {
            if (Arrays.equals(r.key(), key)) {
                return true;
            }
        }
        return false;
    }

    private static KafkaProducer<byte[], byte[]> producer(Properties p) {
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static KafkaConsumer<byte[], byte[]> consumer(Settings settings, String group) {
        return new KafkaConsumer<>(KafkaSettings.consumer(settings, group, group), new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
    }
}
