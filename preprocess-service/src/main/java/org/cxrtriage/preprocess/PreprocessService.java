package org.cxrtriage.preprocess;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.cxrtriage.common.HttpEndpoints;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Service;
import org.cxrtriage.common.Settings;
import org.cxrtriage.common.TopicSetup;
import org.cxrtriage.imaging.LungSegmenter;
import org.cxrtriage.imaging.PreprocessConfig;
import org.cxrtriage.imaging.Preprocessor;
import org.cxrtriage.imaging.TensorPlanes;
import org.cxrtriage.model.LungChannel;
import org.cxrtriage.model.TorchRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs {@link PreprocessTopology} with exactly-once processing. */
public final class PreprocessService implements Service {

    public static final int DEFAULT_HTTP_PORT = 8091;
    /** Side of the square tensor planes (the paper uses 1024; the default model takes 256). */
    public static final String TENSOR_SIZE = "PREPROCESS_TENSOR_SIZE";
    public static final int DEFAULT_TENSOR_SIZE = 256;
    /**
     * Below this lung-area fraction an image is rejected as "no lungs found" (default
     * {@link TensorPlanes#DEFAULT_MIN_LUNG_FRACTION} with the U-Net; 0 = off with the heuristic, which misses the
     * lungs on some real X-rays).
     */
    public static final String MIN_LUNG_FRACTION = "PREPROCESS_MIN_LUNG_FRACTION";
    /** {@code unet} (default: the trained lung U-Net) or {@code heuristic} (the classical placeholder). */
    public static final String LUNG_SEGMENTER = "LUNG_SEGMENTER";
    /** The lung U-Net directory (lung-model.json + weights), default {@value LungChannel#DEFAULT_MODEL_DIR}. */
    public static final String LUNG_MODEL_DIR = "LUNG_MODEL_DIR";
    /**
     * PyTorch intra-op threads for each stream thread's U-Net forward pass (default 1: one image per stream thread, so
     * parallelism comes from {@value #STREAM_THREADS}). Applied per thread, so it holds when the inference service
     * shares the JVM (the launcher) with its own count.
     */
    public static final String TORCH_THREADS = "PREPROCESS_TORCH_THREADS";
    /**
     * Kafka Streams threads, each preprocessing one image at a time (default: one per core, at most one per partition
     * of the images topic). One thread left a core idle while it waited on its transaction commits: on 2 cores, 2
     * threads gave 9–14 % more images/s in the benchmark and 5–12 % in the one-JVM launcher.
     */
    public static final String STREAM_THREADS = "PREPROCESS_STREAM_THREADS";
    public static final String APPLICATION_ID = "PREPROCESS_APPLICATION_ID";

    /** The stream's consumer group (its application id) and the topic it reads. */
    public static org.cxrtriage.common.ConsumerGroup consumerGroup(Settings settings) {
        return new org.cxrtriage.common.ConsumerGroup(settings.string(APPLICATION_ID, "cxr-preprocess"),
                java.util.List.of(org.cxrtriage.schemas.Topic.IMAGES.name()));
    }
    public static final String STATE_DIR = "PREPROCESS_STATE_DIR";
    /**
     * How often the exactly-once transaction commits while images queue; downstream (read_committed) sees tensors
     * only then. An image that is not queued is committed at once ({@value #CAUGHT_UP_MS}).
     */
    public static final String COMMIT_INTERVAL_MS = "PREPROCESS_COMMIT_INTERVAL_MS";
    public static final int DEFAULT_COMMIT_INTERVAL_MS = 100;
    /**
     * An image that reached the stream within this long (ms) of its upload is committed at once. Longer means a queue
     * (overload), where a wait of up to {@value #COMMIT_INTERVAL_MS} is small beside the queue's own and buys
     * throughput. A second, not tens of ms: a stall of a few hundred ms at normal load must not push the next images
     * onto the interval too.
     */
    public static final String CAUGHT_UP_MS = "PREPROCESS_CAUGHT_UP_MS";
    /**
     * The stream consumers' group session timeout. Kafka Streams' consumers do not leave the group when a stream thread
     * dies, so the partitions of a replaced thread (see the uncaught-exception handler) wait this long for the group to
     * drop it: with Kafka's 45-s default, a registry hiccup stalled those images 45 s. Heartbeats come from a thread of
     * their own, so only a stalled JVM would miss 10 s of them.
     */
    public static final String SESSION_TIMEOUT_MS = "PREPROCESS_SESSION_TIMEOUT_MS";
    public static final int DEFAULT_SESSION_TIMEOUT_MS = 10_000;
    public static final int DEFAULT_CAUGHT_UP_MS = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(PreprocessService.class);

    private final Settings settings;
    private final PrometheusMeterRegistry metrics = HttpEndpoints.newMeterRegistry("preprocess");
    private KafkaStreams streams;
    private HttpEndpoints http;

    public PreprocessService(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return "preprocess";
    }

    /**
     * The tensor factory with the configured lung channel (loads the U-Net: fails if its directory is missing).
     *
     * @throws UncheckedIOException when the lung model cannot be loaded
     */
    public static TensorFactory tensorFactory(Settings settings) {
        int size = settings.integer(TENSOR_SIZE, DEFAULT_TENSOR_SIZE);
        String kind = settings.string(LUNG_SEGMENTER, LungChannel.DEFAULT_KIND);
        int lungThreads = lungThreads(settings);
        if (LungChannel.UNET.equalsIgnoreCase(kind.trim())) {
            TorchRuntime.configureThreadsIfUnset(lungThreads, 1);
            LOG.info("lung U-Net runs with PyTorch intra-op threads = {} per stream thread", lungThreads);
        }
        LungSegmenter lungs;
        try {
            lungs = LungChannel.open(kind, settings.string(LUNG_MODEL_DIR, LungChannel.DEFAULT_MODEL_DIR), lungThreads);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the lung model (" + LUNG_MODEL_DIR + ", or "
                    + LUNG_SEGMENTER + "=heuristic): " + e.getMessage(), e);
        }
        double minLung = settings.decimal(MIN_LUNG_FRACTION, LungChannel.defaultMinLungFraction(lungs));
        LOG.info("lung channel {} (min lung fraction {})", lungs.version(), minLung);
        return new TensorFactory(new TensorPlanes(new Preprocessor(PreprocessConfig.ofSize(size)), lungs, minLung),
                Clock.systemUTC());
    }

    /** {@value #TORCH_THREADS}, else 1. */
    public static int lungThreads(Settings settings) {
        return settings.integer(TORCH_THREADS, 1);
    }

    /**
     * {@value #STREAM_THREADS}, else one more than the cores, up to the images topic's partitions. The extra thread
     * keeps a core busy while another waits on its transaction, and on 2 cores it gives each of the 3 default
     * partitions its own thread, so an image never queues behind another partition's. Measured on 2 cores (five
     * alternating benchmark pairs, 2026-11-27): 3 threads against 2 filled the inference batches to 3.85–3.91 images
     * against 3.51–3.65 in every pair, throughput ratio 0.79–0.93 against 0.74–0.87, p99 at half load 1.29–2.62 against
     * 1.78–2.41 × its limit, for 100–300 MB more resident memory.
     */
    static int streamThreads(Settings settings, int cores) {
        int partitions = settings.integer(TopicSetup.PARTITIONS, TopicSetup.DEFAULT_PARTITIONS);
        return settings.integer(STREAM_THREADS, Math.max(1, Math.min(cores + 1, partitions)));
    }

    Properties streamsConfig() {
        Properties p = KafkaSettings.base(settings, "preprocess");
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, consumerGroup(settings).id());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, streamThreads(settings, Runtime.getRuntime().availableProcessors()));
        // Only images that queued wait for this (PreprocessStep commits the others at once): several per transaction
        // then cost the broker and this service less, and give the inference service fuller batches.
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
                settings.integer(COMMIT_INTERVAL_MS, DEFAULT_COMMIT_INTERVAL_MS));
        p.put(StreamsConfig.STATE_DIR_CONFIG, settings.string(STATE_DIR,
                System.getProperty("java.io.tmpdir") + "/cxr-preprocess-state"));
        // Records that cannot even be deserialized go to the dead-letter topic (KIP-1034) and the stream goes on;
        // those that could not be read because of the registry (away, or without the schema) are read again.
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, RegistryAwareDeserializationHandler.class);
        p.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, TopicSetup.DEAD_LETTER_TOPIC);
        // Images and tensors are larger than Kafka's 1 MB defaults.
        p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), KafkaSettings.MAX_RECORD_BYTES);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), KafkaSettings.compression(settings));
        // The stream's producer is transactional (exactly-once): the same back-off as the services' own.
        if (!p.containsKey(ProducerConfig.RETRY_BACKOFF_MS_CONFIG)) {
            p.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG),
                    KafkaSettings.TRANSACTION_RETRY_BACKOFF_MS);
        }
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), KafkaSettings.MAX_RECORD_BYTES);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_BYTES_CONFIG), KafkaSettings.MAX_RECORD_BYTES);
        // Preprocessing a batch of large images takes seconds; keep batches small so the EOS transaction stays short.
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 20);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG),
                settings.integer(SESSION_TIMEOUT_MS, DEFAULT_SESSION_TIMEOUT_MS));
        return p;
    }

    @Override
    public void start() {
        // Idempotent: whichever service starts first creates the topics and registers the schemas.
        TopicSetup.ensureAll(settings);
        Counter tensors = metrics.counter("cxr.preprocess.tensors");
        Counter rejected = metrics.counter("cxr.preprocess.rejected");
        streams = new KafkaStreams(PreprocessTopology.build(RegistrySettings.serdes(settings), tensorFactory(settings),
                tensors::increment, rejected::increment, settings.integer(CAUGHT_UP_MS, DEFAULT_CAUGHT_UP_MS)),
                streamsConfig());
        new KafkaStreamsMetrics(streams).bindTo(metrics);
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("stream thread failed; replacing it: {}", e.toString());
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse
                    .REPLACE_THREAD;
        });
        streams.start();
        http = HttpEndpoints.start(settings, DEFAULT_HTTP_PORT, name(), this::healthy, metrics, config -> { });
        LOG.info("preprocess stream started (tensor size {})", settings.integer(TENSOR_SIZE, DEFAULT_TENSOR_SIZE));
    }

    @Override
    public boolean healthy() {
        return streams != null && (streams.state().isRunningOrRebalancing()
                || streams.state() == KafkaStreams.State.CREATED);
    }

    @Override
    public void close() {
        if (http != null) {
            http.close();
        }
        if (streams != null) {
            streams.close(java.time.Duration.ofSeconds(30));
        }
    }
}
