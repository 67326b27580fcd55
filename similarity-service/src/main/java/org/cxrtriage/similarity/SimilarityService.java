package org.cxrtriage.similarity;

import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.cxrtriage.common.GuardedPoll;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.ApiTokens;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.HttpEndpoints;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Service;
import org.cxrtriage.common.Settings;
import org.cxrtriage.common.TopicReplay;
import org.cxrtriage.common.TopicSetup;
import org.cxrtriage.common.TransactionalBatch;
import org.cxrtriage.schemas.AvroSerdes;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.CxrLabel;
import org.cxrtriage.schemas.CxrRetraction;
import org.cxrtriage.schemas.CxrScore;
import org.cxrtriage.schemas.Topic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/**
 * Consumes scores and confirmed labels, publishes neighbours and alerts in Kafka transactions with the consumed
 * offsets. A replayed score finds its case already stored and its patient's alert already open, so a retried batch
 * republishes exactly what the aborted attempt would have, and nothing twice.
 */
public final class SimilarityService implements Service {

    public static final int DEFAULT_HTTP_PORT = 8093;
    public static final String K = "SIMILARITY_K";
    /** One alert per patient within this window (ISO-8601 duration or seconds). */
    public static final String ALERT_WINDOW = "ALERT_WINDOW";
    /** Probability needed to alert; default: the model's own threshold. */
    public static final String ALERT_THRESHOLD = "ALERT_THRESHOLD";
    public static final String ALERT_REQUIRE_KNN = "ALERT_REQUIRE_KNN_AGREEMENT";
    public static final String ALERT_MIN_KNN_VOTE = "ALERT_MIN_KNN_VOTE";
    /** Prefix of every Redis key; the same setting for every service ({@link CommonKeys#REDIS_KEY_PREFIX}). */
    public static final String REDIS_KEY_PREFIX = CommonKeys.REDIS_KEY_PREFIX;
    public static final String GROUP_ID = "SIMILARITY_GROUP_ID";

    /**
     * The service's consumer group and the topics it reads: scores, labels and retractions (co-partitioned with the
     * scores, so range assignment gives an image's score and retraction to one consumer).
     */
    public static org.cxrtriage.common.ConsumerGroup consumerGroup(Settings settings) {
        return new org.cxrtriage.common.ConsumerGroup(settings.string(GROUP_ID, "cxr-similarity"),
                List.of(Topic.SCORES.name(), Topic.LABELS.name(), Topic.RETRACTIONS.name()));
    }
    /** exact (brute force, the reference) or hnsw (Lucene HNSW, approximate). */
    public static final String INDEX = "SIMILARITY_INDEX";
    public static final String HNSW_EF = "SIMILARITY_HNSW_EF";
    /** HNSW neighbours per node (M) and insertion beam width: how new graphs are built. */
    public static final String HNSW_M = "SIMILARITY_HNSW_M";
    public static final String HNSW_BEAM_WIDTH = "SIMILARITY_HNSW_BEAM_WIDTH";
    /** Folder of the HNSW index snapshot (hnsw only): a restart reads only the changes made since. */
    public static final String INDEX_DIR = "SIMILARITY_INDEX_DIR";
    /** POST /similar (an uploaded image, scored like the stream does): on by default; loads the models on first use. */
    public static final String UPLOAD_API = "SIMILARITY_UPLOAD_API";
    /** How often the snapshot is written. */
    public static final String SNAPSHOT_INTERVAL = "SIMILARITY_SNAPSHOT_INTERVAL";

    private static final Logger LOG = LoggerFactory.getLogger(SimilarityService.class);
    private static final long WARN_OTHER_MODEL_EVERY_NANOS = Duration.ofMinutes(1).toNanos();
    private long lastOtherModelWarning = System.nanoTime() - WARN_OTHER_MODEL_EVERY_NANOS;

    private final Settings settings;
    private final PrometheusMeterRegistry metrics = HttpEndpoints.newMeterRegistry("similarity");
    private RedisClient redis;
    private SimilarityProcessor processor;
    private CaseStore store;
    private NeighbourIndex index;
    private AvroSerdes serdes;
    private String groupId;
    private KafkaConsumer<String, SpecificRecord> consumer;
    private KafkaProducer<String, SpecificRecord> producer;
    private HttpEndpoints http;
    private Thread loop;
    private volatile boolean running;

    public SimilarityService(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return "similarity";
    }

    @Override
    public void start() {
        // Idempotent: whichever service starts first creates the topics and registers the schemas.
        TopicSetup.ensureAll(settings);
        redis = RedisClient.create(URI.create(settings.string(CommonKeys.REDIS_URL, CommonKeys.DEFAULT_REDIS_URL)));
        AlertPolicy policy = new AlertPolicy(settings.decimal(ALERT_THRESHOLD, Double.NaN),
                settings.flag(ALERT_REQUIRE_KNN, false), settings.decimal(ALERT_MIN_KNN_VOTE, 0.5));
        index = newIndex(settings);
        store = new CaseStore(redis, settings.string(REDIS_KEY_PREFIX, "cxr:"));
        // A retraction can come as long as ingest remembers the image: the alert keeps its images that long.
        processor = new SimilarityProcessor(index, store, policy, settings.integer(K, 4),
                settings.duration(ALERT_WINDOW, Duration.ofDays(14)),
                settings.duration(CommonKeys.DEDUP_WINDOW, CommonKeys.DEFAULT_DEDUP_WINDOW));
        serdes = RegistrySettings.serdes(settings);
        groupId = consumerGroup(settings).id();
        producer = new KafkaProducer<>(KafkaSettings.transactionalProducer(settings, "similarity",
                KafkaSettings.transactionalId(settings, name(), DEFAULT_HTTP_PORT, 0)), new StringSerializer(),
                serdes.anySerializer());
        // Before a recovery reads the group's offsets: this aborts what a crashed predecessor of this instance left
        // pending, which the recovery would otherwise wait for until the broker's transaction timeout.
        producer.initTransactions();
        recoverIfRedisLostData();
        int loaded = processor.rebuildIndex();
        metrics.gauge("cxr.similarity.index.size", index, NeighbourIndex::size);
        LOG.info("case index rebuilt from Redis: {} cases; alert rule: {}", loaded, policy.describe());

        @SuppressWarnings({"unchecked", "rawtypes"})
        org.apache.kafka.common.serialization.Deserializer<SpecificRecord> any =
                (org.apache.kafka.common.serialization.Deserializer) serdes.deserializer(Topic.SCORES);
        java.util.Properties cp = KafkaSettings.consumer(settings, "similarity", groupId);
        // One transaction per poll, with a search and Redis round trips per record: a bounded batch stays well inside
        // the transaction timeout (15 s) on a backlog.
        cp.putIfAbsent(org.apache.kafka.clients.consumer.ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
        // Range assignment gives partition N of the scores and of the retractions topic (co-partitioned, checked by
        // TopicSetup) to the same consumer: an image's score and its retraction are handled in order, on one thread.
        cp.put(org.apache.kafka.clients.consumer.ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                org.apache.kafka.clients.consumer.RangeAssignor.class.getName());
        consumer = new KafkaConsumer<>(cp, new StringDeserializer(), any);
        new KafkaClientMetrics(producer).bindTo(metrics);
        new KafkaClientMetrics(consumer).bindTo(metrics);
        running = true;
        loop = new Thread(this::runLoop, "similarity-loop");
        loop.start();
        ApiTokens tokens = ApiTokens.fromSettings(settings);
        http = HttpEndpoints.start(settings, DEFAULT_HTTP_PORT, name(), this::healthy, metrics, config -> {
            tokens.protect(config);
            config.routes.get("/cases/{imageId}/similar", this::similar);
            if (settings.flag(UPLOAD_API, true)) {
                config.http.maxRequestSize = org.cxrtriage.common.KafkaSettings.MAX_RECORD_BYTES;
                config.routes.post("/similar", this::similarToUpload);
            }
        });
    }

    /** The index named by SIMILARITY_INDEX; both give the same answers up to the approximate one's recall. */
    public static NeighbourIndex newIndex(Settings settings) {
        String kind = settings.string(INDEX, "exact");
        return switch (kind) {
            case "exact" -> new ExactNeighbourIndex();
            case "hnsw" -> new HnswNeighbourIndex(new HnswNeighbourIndex.Params(
                    settings.integer(HNSW_M, HnswNeighbourIndex.DEFAULT_PARAMS.maxConn()),
                    settings.integer(HNSW_BEAM_WIDTH, HnswNeighbourIndex.DEFAULT_PARAMS.beamWidth()),
                    settings.integer(HNSW_EF, HnswNeighbourIndex.DEFAULT_PARAMS.efSearch())),
                    settings.optional(INDEX_DIR).map(java.nio.file.Path::of).orElse(null));
            default -> throw new IllegalArgumentException(INDEX + " must be exact or hnsw, got '" + kind + "'");
        };
    }

    /**
     * Redis is a cache of the topics: when its data is gone (a restart without persistence, a flush) the cases this
     * service has processed are read back from the scores and labels topics up to its committed offsets, and the open
     * alerts from the alerts topic, before anything else is processed; again, should Redis lose its data during the
     * recovery. Returns the store's generation, which the batch's writes then require.
     */
    private String recoverIfRedisLostData() {
        String epoch = store.epoch();
        while (epoch == null) {
            long t0 = System.nanoTime();
            // Until it ends, the recovery's writes are refused once another instance has filled the store (it may
            // have processed batches since) or Redis lost its data again.
            String token = store.beginRecovery();
            try {
                Map<TopicPartition, Long> done = TopicReplay.committedOffsets(settings, groupId,
                        List.of(Topic.RETRACTIONS.name(), Topic.SCORES.name(), Topic.LABELS.name()));
                // Retractions first: a replayed score of a withdrawn image is then not stored again.
                long retractions = TopicReplay.read(settings, Topic.RETRACTIONS.name(),
                        serdes.deserializer(Topic.RETRACTIONS), done,
                        r -> processor.restoreRetraction(r.value(), recordId(r)));
                long cases = TopicReplay.read(settings, Topic.SCORES.name(), serdes.deserializer(Topic.SCORES), done,
                        r -> processor.restoreCase(r.value()));
                long labels = TopicReplay.read(settings, Topic.LABELS.name(), serdes.deserializer(Topic.LABELS), done,
                        r -> processor.onLabel(r.value()));
                Instant now = Instant.now();
                // Twice: an alert's images are kept from its latest join, which may come after their own events.
                TopicReplay.read(settings, Topic.ALERTS.name(), serdes.deserializer(Topic.ALERTS), null,
                        r -> processor.noteAlertJoin(r.value(), now));
                long alerts = TopicReplay.read(settings, Topic.ALERTS.name(), serdes.deserializer(Topic.ALERTS), null,
                        r -> processor.restoreAlert(r.value(), now));
                if (store.finishRecovery(token)) {
                    metrics.counter("cxr.similarity.recoveries").increment();
                    LOG.info("case store recovered from Kafka in {} ms: {} retractions, {} scores, {} labels, {} "
                            + "alerts replayed", (System.nanoTime() - t0) / 1_000_000, retractions, cases, labels,
                            alerts);
                } else {
                    LOG.warn("Redis lost its data again during the recovery; recovering again");
                }
            } catch (CaseStore.StoreReplacedException e) {
                store.abandonRecovery(token);
                LOG.info("recovery stopped: another instance filled the case store first, or Redis lost its data "
                        + "again");
            } finally {
                processor.forgetAlertJoins();
            }
            epoch = store.epoch();
        }
        return epoch;
    }

    private void runLoop() {
        try {
            consumer.subscribe(consumerGroup(settings).topics());
            long snapshotEvery = settings.duration(SNAPSHOT_INTERVAL, Duration.ofMinutes(5)).toNanos();
            long nextSnapshot = System.nanoTime() + snapshotEvery;
            GuardedPoll guard = GuardedPoll.counting(metrics, "cxr.similarity");
            while (running) {
                if (System.nanoTime() > nextSnapshot) {
                    nextSnapshot = System.nanoTime() + snapshotEvery;
                    try {
                        processor.syncIndex(); // an idle instance too follows a refilled store
                        processor.snapshot();
                    } catch (RuntimeException e) { // Redis away: the next interval tries again
                        LOG.warn("could not bring the case index up to date or write its snapshot: {}", e.toString());
                    }
                }
                ConsumerRecords<String, SpecificRecord> records = guard.poll(consumer, Duration.ofMillis(500));
                if (records.isEmpty()) {
                    continue;
                }
                List<ConsumerRecord<String, SpecificRecord>> batch = new ArrayList<>();
                records.forEach(batch::add);
                // Neighbours, alerts and the consumed offsets commit in one transaction; Redis writes are
                // idempotent by image id, so a batch aborted half-way is simply processed again.
                // The batch's deciding writes require this generation of the store: should Redis lose its data
                // meanwhile, a write is refused (else it would land in the empty store and outlive the abort, e.g. a
                // retraction that found no alert) and the batch aborts. So it does when the change is seen only once
                // its offsets are pending: a recovery reads the offsets waiting for pending ones, so a loss after
                // this check finds the batch committed, and its records are replayed.
                boolean committed = TransactionalBatch.process(producer, consumer, batch, () -> {
                    // (A store refilled since, by this instance or another, also has the index reloaded whole: see
                    // SimilarityProcessor.syncIndex, which every score and retraction runs first.)
                    store.requireEpoch(recoverIfRedisLostData());
                    for (ConsumerRecord<String, SpecificRecord> r : batch) {
                        handle(r);
                    }
                }, store::verifyEpoch);
                if (!committed) {
                    metrics.counter("cxr.similarity.aborted").increment();
                    Thread.sleep(1000);
                }
            }
        } catch (WakeupException e) {
            if (running) {
                LOG.error("similarity loop woken unexpectedly", e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.error("similarity loop stopped: {}", e.toString(), e);
        } finally {
            running = false;
            consumer.close(Duration.ofSeconds(10));
            try {
                processor.snapshot();
            } catch (RuntimeException e) {
                LOG.warn("could not write the index snapshot: {}", e.toString());
            }
        }
    }

    /** A record's place in its topic: what tells a replayed record from another one with the same content. */
    static String recordId(ConsumerRecord<?, ?> r) {
        return r.topic() + "-" + r.partition() + "@" + r.offset();
    }

    private void handle(ConsumerRecord<String, SpecificRecord> record) {
        SpecificRecord value = record.value();
        if (value instanceof CxrScore score) {
            SimilarityProcessor.Result result = processor.onScore(score, recordId(record), Instant.now());
            if (result.retracted()) {
                metrics.counter("cxr.similarity.retracted.dropped").increment();
                LOG.info("score of image {} dropped: its site retracted the image", score.getImageId());
                return;
            }
            if (result.otherEmbeddingSpace()) {
                metrics.counter("cxr.similarity.other.model").increment();
                warnOtherModel(score);
            }
            producer.send(new ProducerRecord<>(Topic.NEIGHBOURS.name(), score.getImageId(), result.neighbours()));
            metrics.counter("cxr.similarity.neighbours").increment();
            if (result.alert() != null) {
                producer.send(new ProducerRecord<>(Topic.ALERTS.name(), result.alert().getPatientRef(),
                        result.alert()));
                metrics.counter("cxr.similarity.alerts", "site", result.alert().getSiteId()).increment();
                LOG.info("alert {} raised for image {} (site {})", result.alert().getAlertId(), score.getImageId(),
                        score.getSiteId());
            }
        } else if (value instanceof CxrRetraction retraction) {
            CxrAlert alert = processor.onRetraction(retraction, recordId(record), Instant.now());
            metrics.counter("cxr.similarity.retractions").increment();
            if (alert != null) {
                producer.send(new ProducerRecord<>(Topic.ALERTS.name(), alert.getPatientRef(), alert));
                LOG.info("image {} retracted: out of alert {}, {} image(s) left", retraction.getImageId(),
                        alert.getAlertId(), alert.getImageCount());
            } else {
                LOG.info("image {} retracted (in no alert)", retraction.getImageId());
            }
        } else if (value instanceof CxrLabel label) {
            int updated = processor.onLabel(label);
            metrics.counter("cxr.similarity.labels").increment();
            if (updated == 0) {
                // Held for the case it belongs to (README, topics table).
                metrics.counter("cxr.similarity.labels.held").increment();
                LOG.info("confirmed outcome matched no stored case yet; held for it");
            } else {
                LOG.info("confirmed outcome attached to {} case(s)", updated);
            }
        }
    }

    private void warnOtherModel(CxrScore score) {
        long now = System.nanoTime();
        if (now - lastOtherModelWarning >= WARN_OTHER_MODEL_EVERY_NANOS) {
            lastOtherModelWarning = now;
            LOG.warn("scores of model {} get no neighbours: the stored cases come from another model, and embeddings "
                    + "of two models cannot be compared; give the new model a case history of its own ({}, README "
                    + "\"A new model\")", SimilarityProcessor.spaceOf(score), REDIS_KEY_PREFIX);
        }
    }

    /** GET /cases/{imageId}/similar?limit=4&offset=0: the stored image's most similar cases of other patients. */
    private void similar(io.javalin.http.Context ctx) {
        Page page = page(ctx);
        if (page == null) {
            return;
        }
        int limit = page.limit();
        int offset = page.offset();
        String imageId = ctx.pathParam("imageId");
        java.util.Optional<CaseRecord> query = processor.caseOf(imageId);
        if (query.isPresent() && !ApiTokens.mayActFor(ctx, query.get().siteId())) {
            ctx.status(403).json(Map.of("error", "FORBIDDEN_SITE", "message", "this token may not read that site"));
            return;
        }
        processor.similarTo(imageId, limit, offset).ifPresentOrElse(hits -> ctx.json(Map.of(
                "imageId", imageId, "offset", offset, "limit", limit, "cases", casesJson(hits, ctx))),
                () -> ctx.status(404).json(Map.of("error", "UNKNOWN_IMAGE", "message", "no scored case " + imageId)));
    }

    /** The page the query asks for, or null after answering 400 {@code BAD_PAGE}. */
    private static Page page(io.javalin.http.Context ctx) {
        try {
            return Page.parse(ctx.queryParam("limit"), ctx.queryParam("offset"));
        } catch (IllegalArgumentException e) {
            ctx.status(400).json(Map.of("error", "BAD_PAGE", "message", e.getMessage()));
            return null;
        }
    }

    /**
     * The similar cases as the API shows them to this token: a case of a site it may not act for comes without its
     * patient's reference (pseudonyms are global: a site could recognise its own patients X-rayed elsewhere).
     */
    private static List<Map<String, Object>> casesJson(List<NeighbourIndex.Hit> hits, io.javalin.http.Context ctx) {
        return hits.stream().map(h -> {
            Map<String, Object> c = new java.util.LinkedHashMap<>();
            c.put("imageId", h.record().imageId());
            c.put("patientRef", ApiTokens.mayActFor(ctx, h.record().siteId()) ? h.record().patientRef() : null);
            c.put("siteId", h.record().siteId());
            c.put("distance", h.distance());
            c.put("probability", h.record().probability());
            c.put("positive", h.record().votePositive());
            c.put("labelSource", h.record().confirmedPositive() != null ? "CONFIRMED" : "PREDICTED");
            c.put("scoredAt", Instant.ofEpochMilli(h.record().scoredAtMillis()).toString());
            return c;
        }).toList();
    }

    private UploadedImageScorer scorer;
    /** Set when the models load but do not fit together: kept, so each upload does not load them again. */
    private UploadedImageScorer.PlanesMismatchException scorerMismatch;

    /** The scorer for uploads, created on first use (it loads the lung U-Net and the classifier). */
    private synchronized UploadedImageScorer scorer() throws java.io.IOException {
        if (scorerMismatch != null) {
            throw scorerMismatch;
        }
        if (scorer == null) {
            org.cxrtriage.model.LoadedModel model = org.cxrtriage.inference.InferenceService.loadModel(settings);
            org.cxrtriage.imaging.TensorPlanes planes =
                    org.cxrtriage.preprocess.PreprocessService.tensorFactory(settings).planes();
            try {
                UploadedImageScorer.requireSamePlanes(model.metadata(), planes);
            } catch (UploadedImageScorer.PlanesMismatchException e) {
                model.close();
                scorerMismatch = e;
                throw e;
            }
            scorer = new UploadedImageScorer(planes, new org.cxrtriage.model.CxrPredictor(model, 1));
        }
        return scorer;
    }

    /**
     * POST /similar?limit=4&offset=0 with an image (multipart field {@code image} or the raw body): scored through the
     * stream's preprocessing and model, then the most similar stored cases (all patients: the upload has none).
     */
    private void similarToUpload(io.javalin.http.Context ctx) throws Exception {
        Page page = page(ctx);
        if (page == null) {
            return;
        }
        int limit = page.limit();
        int offset = page.offset();
        byte[] bytes;
        String type = ctx.contentType() == null ? "" : ctx.contentType();
        if (type.startsWith("multipart/form-data")) {
            io.javalin.http.UploadedFile file = ctx.uploadedFile("image");
            if (file == null) {
                ctx.status(400).json(Map.of("error", "MISSING_FIELD", "message", "multipart field 'image' is required"));
                return;
            }
            try (java.io.InputStream in = file.content()) {
                bytes = in.readAllBytes();
            }
        } else {
            bytes = ctx.bodyAsBytes();
        }
        UploadedImageScorer uploads;
        try {
            uploads = scorer();
        } catch (UploadedImageScorer.PlanesMismatchException e) {
            LOG.error("cannot score uploads for POST /similar: {}", e.getMessage());
            ctx.status(503).json(Map.of("error", "PLANES_MISMATCH", "message", e.getMessage()));
            return;
        } catch (java.io.IOException | RuntimeException e) {
            LOG.error("cannot load the models for POST /similar: {}", e.toString());
            ctx.status(503).json(Map.of("error", "MODEL_UNAVAILABLE", "message",
                    "the lung or classifier model could not be loaded (MODEL_DIR, LUNG_MODEL_DIR)"));
            return;
        }
        UploadedImageScorer.Scored scored;
        try {
            scored = uploads.score(bytes);
        } catch (org.cxrtriage.imaging.InvalidImageException e) {
            String code = e.code().name();
            int status = code.startsWith("TOO_MANY") ? 413
                    : code.equals("NO_LUNGS") || code.equals("BLANK") || code.equals("LATERAL_VIEW") ? 422 : 400;
            ctx.status(status).json(Map.of("error", code, "message", e.getMessage()));
            return;
        }
        List<NeighbourIndex.Hit> hits = processor.similarToEmbedding(scored.prediction().embedding(), limit, offset);
        metrics.counter("cxr.similarity.uploads").increment();
        ctx.json(Map.of("probability", scored.prediction().probability(), "positive", scored.positive(),
                "threshold", scored.model().threshold(),
                "model", scored.model().name() + ":" + scored.model().version(),
                "lungAreaFraction", scored.lungAreaFraction(), "offset", offset, "limit", limit,
                "cases", casesJson(hits, ctx)));
    }

    public int httpPort() {
        return http.port();
    }

    @Override
    public boolean healthy() {
        return running;
    }

    @Override
    public void close() {
        running = false;
        if (consumer != null) {
            consumer.wakeup();
        }
        if (loop != null) {
            try {
                loop.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (http != null) {
            http.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (scorer != null) {
            scorer.close();
        }
        if (index instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("could not close the index: {}", e.toString());
            }
        }
        if (redis != null) {
            redis.close();
        }
    }
}
