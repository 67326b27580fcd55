package org.cxrtriage.inference;

import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.HttpEndpoints;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Service;
import org.cxrtriage.common.Settings;
import org.cxrtriage.common.TopicSetup;
import org.cxrtriage.model.Backbone;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.LoadedModel;
import org.cxrtriage.model.ModelDirectory;
import org.cxrtriage.model.TorchRuntime;
import org.cxrtriage.schemas.AvroSerdes;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.Topic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Scores tensors with the DJL model: N worker threads, each with its own consumer and predictor. */
public final class InferenceService implements Service {

    public static final int DEFAULT_HTTP_PORT = 8092;
    /** Model directory (weights + model.json). */
    public static final String MODEL_DIR = "MODEL_DIR";
    public static final String DEFAULT_MODEL_DIR = "models/default";
    /** When the model directory is empty, create a seeded untrained model there (local runs only). */
    public static final String MODEL_INIT_IF_MISSING = "MODEL_INIT_IF_MISSING";
    public static final String BATCH_SIZE = "INFERENCE_BATCH_SIZE";
    public static final String MAX_WAIT_MS = "INFERENCE_MAX_WAIT_MS";
    public static final String WORKERS = "INFERENCE_WORKERS";
    /** PyTorch intra-op threads per forward pass of each worker; default {@link #torchThreads}. */
    public static final String TORCH_THREADS = "INFERENCE_TORCH_THREADS";
    public static final String GROUP_ID = "INFERENCE_GROUP_ID";

    /** The workers' consumer group and the topic it reads. */
    public static org.cxrtriage.common.ConsumerGroup consumerGroup(Settings settings) {
        return new org.cxrtriage.common.ConsumerGroup(settings.string(GROUP_ID, "cxr-inference"),
                List.of(Topic.TENSORS.name()));
    }

    private static final Logger LOG = LoggerFactory.getLogger(InferenceService.class);

    private final Settings settings;
    private final PrometheusMeterRegistry metrics = HttpEndpoints.newMeterRegistry("inference");
    private final List<InferenceWorker> workers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private LoadedModel model;
    private HttpEndpoints http;

    public InferenceService(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return "inference";
    }

    /** Loads the model directory, creating a seeded untrained model there first if allowed and missing. */
    public static LoadedModel loadModel(Settings settings) throws IOException {
        Path dir = Path.of(settings.string(MODEL_DIR, DEFAULT_MODEL_DIR));
        if (!Files.exists(dir.resolve(ModelDirectory.METADATA_FILE)) || ModelDirectory.weightsFile(dir).isEmpty()) {
            if (!settings.flag(MODEL_INIT_IF_MISSING, true)) {
                throw new IOException("no model at " + dir.toAbsolutePath() + " (set MODEL_DIR, or "
                        + MODEL_INIT_IF_MISSING + "=true to create an untrained seeded model)");
            }
            LOG.warn("no model at {}: creating a seeded, UNTRAINED ResNet18 model there", dir.toAbsolutePath());
            ModelDirectory.createSeeded(dir, Backbone.RESNET18, 256, 128, 42L, "cxr-resnet18-seeded", "0.0.0-untrained");
        }
        LoadedModel loaded = ModelDirectory.loadForInference(dir, TorchRuntime.defaultDevice());
        if (!loaded.metadata().trained()) {
            LOG.warn("model {} is untrained: its probabilities are not clinically meaningful", loaded);
        }
        if (loaded.metadata().planes() != null) {
            LOG.info("model {} scores planes {} only; tensors with others are rejected ({})", loaded,
                    loaded.metadata().planes(), ScoreMapper.PLANES_MISMATCH);
        } else if (loaded.metadata().trained()) {
            LOG.warn("model {} does not record the planes it was trained on ({}): tensors of any preprocessing are"
                    + " scored", loaded, ModelDirectory.METADATA_FILE);
        }
        return loaded;
    }

    /**
     * {@value #TORCH_THREADS}, else half the cores shared among the workers (at least 1). Half: by default the
     * preprocess service, the slower stage, runs on the same host and needs the other half. On 2 cores one thread
     * per forward pass gave the same throughput as two within noise (4 alternating benchmark pairs: 27.8–32.3 against
     * 29.7–33.0 images/s) and a shorter tail at half load (p95 89–126 against 107–207 ms): a single image gains little
     * from a second thread (16–18 against 15–17 ms), and its two threads wait on each other when the preprocessing
     * takes a core. A host that runs only inference sets it to its cores.
     */
    public static int torchThreads(Settings settings, int cores) {
        int workers = Math.max(1, settings.integer(WORKERS, 1));
        return settings.integer(TORCH_THREADS, Math.max(1, cores / 2 / workers));
    }

    @Override
    public void start() throws IOException {
        // Idempotent: whichever service starts first creates the topics and registers the schemas.
        TopicSetup.ensureAll(settings);
        int workerCount = settings.integer(WORKERS, 1);
        int cores = Runtime.getRuntime().availableProcessors();
        int torchThreads = torchThreads(settings, cores);
        TorchRuntime.configureThreads(torchThreads, 1);
        model = loadModel(settings);
        int batchSize = settings.integer(BATCH_SIZE, 4);
        Duration maxWait = Duration.ofMillis(settings.integer(MAX_WAIT_MS, 10));
        AvroSerdes serdes = RegistrySettings.serdes(settings);
        for (int i = 0; i < workerCount; i++) {
            // One transactional producer per worker: a transaction belongs to one thread's batch.
            KafkaProducer<String, SpecificRecord> producer = new KafkaProducer<>(
                    KafkaSettings.transactionalProducer(settings, "inference-" + i,
                            KafkaSettings.transactionalId(settings, name(), DEFAULT_HTTP_PORT, i)),
                    new StringSerializer(), serdes.anySerializer());
            new KafkaClientMetrics(producer).bindTo(metrics);
            Properties cp = KafkaSettings.consumer(settings, "inference-" + i, consumerGroup(settings).id());
            // One poll never returns more than a batch, so the gather loop stays simple.
            cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, batchSize);
            KafkaConsumer<String, ImageTensor> consumer = new KafkaConsumer<>(cp, new StringDeserializer(),
                    serdes.deserializer(Topic.TENSORS));
            new KafkaClientMetrics(consumer).bindTo(metrics);
            CxrPredictor predictor = new CxrPredictor(model, batchSize);
            predictor.warmUp();
            InferenceWorker worker = new InferenceWorker(consumer, producer, predictor, maxWait, torchThreads,
                    metrics);
            Thread t = new Thread(worker, "inference-worker-" + i);
            workers.add(worker);
            threads.add(t);
            t.start();
        }
        http = HttpEndpoints.start(settings, DEFAULT_HTTP_PORT, name(), this::healthy, metrics, config -> { });
        LOG.info("inference started: model {}, {} worker(s), batch {}, device {}", model, workerCount, batchSize,
                model.device());
    }

    /** The port of /health and /metrics (0 in the settings picks a free one). */
    public int httpPort() {
        return http.port();
    }

    @Override
    public boolean healthy() {
        return !threads.isEmpty() && threads.stream().allMatch(Thread::isAlive);
    }

    @Override
    public void close() {
        workers.forEach(InferenceWorker::stop);
        for (Thread t : threads) {
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (http != null) {
            http.close();
        }
        if (model != null) {
            model.close();
        }
    }
}
