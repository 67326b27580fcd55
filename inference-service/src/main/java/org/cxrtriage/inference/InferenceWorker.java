package org.cxrtriage.inference;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.cxrtriage.common.GuardedPoll;
import org.cxrtriage.common.TransactionalBatch;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.Prediction;
import org.cxrtriage.model.TorchRuntime;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.Topic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer + one predictor on one thread: gathers tensors into a batch ({@link BatchGatherer}), runs the forward
 * pass, and publishes the scores in a Kafka transaction together with the consumed offsets: a crash re-scores rather
 * than loses an image, and an aborted attempt's scores are never seen.
 */
final class InferenceWorker implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(InferenceWorker.class);

    private final KafkaConsumer<String, ImageTensor> consumer;
    private final KafkaProducer<String, SpecificRecord> producer;
    private final CxrPredictor predictor;
    private final Duration maxWait;
    private final int torchThreads;
    private final Timer batchTimer;
    private final MeterRegistry metrics;
    /** Plane contents already warned about, so a misconfigured stream logs once, not once per image. */
    private final Set<String> warnedPlanes = new HashSet<>();
    private volatile boolean running = true;

    InferenceWorker(KafkaConsumer<String, ImageTensor> consumer, KafkaProducer<String, SpecificRecord> producer,
                    CxrPredictor predictor, Duration maxWait, int torchThreads, MeterRegistry metrics) {
        this.consumer = consumer;
        this.producer = producer;
        this.predictor = predictor;
        this.maxWait = maxWait;
        this.torchThreads = torchThreads;
        this.metrics = metrics;
        this.batchTimer = metrics.timer("cxr.inference.batch");
    }

    @Override
    public void run() {
        try {
            // Set on this thread: in the launcher the preprocess stream threads set their own (1) in the same process.
            TorchRuntime.useIntraOpThreadsOnThisThread(torchThreads);
            producer.initTransactions();
            consumer.subscribe(List.of(Topic.TENSORS.name()));
            BatchGatherer<String, ImageTensor> gatherer = new BatchGatherer<>(consumer, predictor.batchSize(), maxWait,
                    () -> running, GuardedPoll.counting(metrics, "cxr.inference"));
            while (running) {
                List<ConsumerRecord<String, ImageTensor>> batch = gatherer.next();
                if (!batch.isEmpty()) {
                    process(batch, gatherer.consumedIn());
                }
            }
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
        } catch (RuntimeException e) {
            LOG.error("inference worker stopped: {}", e.toString(), e);
            throw e;
        } finally {
            consumer.close(Duration.ofSeconds(10));
            predictor.close();
            producer.close(Duration.ofSeconds(10));
        }
    }

    private void process(List<ConsumerRecord<String, ImageTensor>> batch, ConsumerGroupMetadata consumedIn) {
        Instant now = Instant.now();
        List<ImageTensor> valid = new ArrayList<>();
        List<ModelInput> inputs = new ArrayList<>();
        List<ProducerRecord<String, SpecificRecord>> outputs = new ArrayList<>();
        int rejected = 0;
        int planesMismatched = 0;
        for (ConsumerRecord<String, ImageTensor> r : batch) {
            ImageTensor t = r.value();
            CxrRejected refusal = t == null ? null : ScoreMapper.refusal(t, predictor.metadata(), now);
            if (t == null || refusal != null) {
                if (refusal != null) {
                    outputs.add(new ProducerRecord<>(Topic.REJECTED.name(), t.getImageId(), refusal));
                    if (ScoreMapper.PLANES_MISMATCH.equals(refusal.getReasonCode())) {
                        planesMismatched++;
                        warnOncePerPlanes(t, refusal);
                    }
                }
                rejected++;
                continue;
            }
            ModelInput input;
            try {
                input = ScoreMapper.toInput(t);
            } catch (RuntimeException e) {
                // A tensor that passed the checks above but still cannot be read: rejected, not a stopped worker.
                outputs.add(new ProducerRecord<>(Topic.REJECTED.name(), t.getImageId(),
                        ScoreMapper.badTensor(t, e, now)));
                rejected++;
                continue;
            }
            valid.add(t);
            inputs.add(input);
        }
        int scored = 0;
        if (!inputs.isEmpty()) {
            long start = System.nanoTime();
            ForwardPass.Outcome outcome = ForwardPass.run(inputs, predictor::predict);
            long nanos = System.nanoTime() - start;
            batchTimer.record(nanos, TimeUnit.NANOSECONDS);
            Instant scoredAt = Instant.now();
            for (int i = 0; i < valid.size(); i++) {
                ImageTensor t = valid.get(i);
                Prediction p = outcome.predictions().get(i);
                if (p == null) {
                    // The model could not run this image even alone: rejected with the reason, not retried forever.
                    outputs.add(new ProducerRecord<>(Topic.REJECTED.name(), t.getImageId(),
                            ScoreMapper.inferenceFailed(t, outcome.failures().get(i), now)));
                    rejected++;
                    continue;
                }
                outputs.add(new ProducerRecord<>(Topic.SCORES.name(), t.getImageId(),
                        ScoreMapper.toScore(t, p, predictor.metadata(), scoredAt, nanos / 1e6f,
                                outcome.batchSize())));
                scored++;
            }
        }
        // Scores and the consumed offsets commit in one transaction: a crash before the commit aborts the scores
        // and the batch is scored again, so each image has exactly one committed score.
        boolean committed = TransactionalBatch.process(producer, consumer, consumedIn, batch,
                () -> outputs.forEach(producer::send));
        if (committed) {
            metrics.counter("cxr.inference.scored").increment(scored);
            metrics.counter("cxr.inference.rejected").increment(rejected);
            metrics.counter("cxr.inference.planes.mismatch").increment(planesMismatched);
        } else {
            metrics.counter("cxr.inference.aborted").increment();
            pause();
        }
    }

    private void warnOncePerPlanes(ImageTensor t, CxrRejected refusal) {
        if (warnedPlanes.size() < 100 && warnedPlanes.add(ScoreMapper.planesOf(t))) {
            LOG.warn("refusing every tensor with these planes: {}", refusal.getMessage());
        }
    }

    private static void pause() {
        try {
            Thread.sleep(500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void stop() {
        running = false;
        consumer.wakeup();
    }
}
