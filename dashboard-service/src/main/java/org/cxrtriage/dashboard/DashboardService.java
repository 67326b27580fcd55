package org.cxrtriage.dashboard;

import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.ApiTokens;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.GuardedPoll;
import org.cxrtriage.common.HttpEndpoints;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Service;
import org.cxrtriage.common.Settings;
import org.cxrtriage.common.TopicSetup;
import org.cxrtriage.schemas.AvroSerdes;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.CxrAlertAck;
import org.cxrtriage.schemas.ImageTensor;
import org.cxrtriage.schemas.Topic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The infection-control dashboard. Reads every alert and acknowledgement from the start of their topics into an
 * {@link AlertBoard} (no consumer group: each instance holds the whole board), pushes changes to browsers over
 * Server-Sent Events, publishes acknowledgements as events (so every dashboard instance and every open page sees
 * them), and keeps a picture of every preprocessed image in Redis for a while, so an alert's image and its similar
 * older cases can be shown.
 */
public final class DashboardService implements Service {

    public static final int DEFAULT_HTTP_PORT = 8094;
    /** How many alerts the board keeps (the newest). */
    public static final String MAX_ALERTS = "DASHBOARD_MAX_ALERTS";
    /** How long pictures stay in Redis (ISO-8601 duration or seconds), counted from preprocessing. */
    public static final String IMAGE_TTL = "DASHBOARD_IMAGE_TTL";
    /** Largest side of the stored pictures in pixels. */
    public static final String IMAGE_SIDE = "DASHBOARD_IMAGE_SIDE";
    /**
     * Consumer group that stores the pictures. Instances share it: they write the same Redis, so the work is split;
     * the committed offsets let a restart go on where it stopped.
     */
    public static final String IMAGES_GROUP_ID = "DASHBOARD_IMAGES_GROUP_ID";

    /** The group that stores the pictures (instances share it) and the topic it reads. */
    public static org.cxrtriage.common.ConsumerGroup imagesGroup(Settings settings) {
        return new org.cxrtriage.common.ConsumerGroup(settings.string(IMAGES_GROUP_ID, "cxr-dashboard-images"),
                List.of(Topic.TENSORS.name()));
    }
    public static final String REDIS_KEY_PREFIX = CommonKeys.REDIS_KEY_PREFIX;

    private static final Logger LOG = LoggerFactory.getLogger(DashboardService.class);
    private static final List<String> STATIC_FILES = List.of("app.js", "app.css");

    private final Settings settings;
    private final PrometheusMeterRegistry metrics = HttpEndpoints.newMeterRegistry("dashboard");
    private final AlertBoard board;
    private final Duration imageTtl;
    private final int imageSide;
    private SseHub hub;
    private RedisClient redis;
    private ImageStore images;
    private KafkaConsumer<String, SpecificRecord> alertConsumer;
    private KafkaConsumer<String, ImageTensor> tensorConsumer;
    private KafkaProducer<String, CxrAlertAck> ackProducer;
    private HttpEndpoints http;
    private Thread alertLoop;
    private Thread imageLoop;
    private volatile boolean running;
    private volatile boolean alertsRunning;
    private volatile boolean imagesRunning;
    private volatile boolean caughtUp;
    private final Map<String, byte[]> staticFiles = new LinkedHashMap<>();

    public DashboardService(Settings settings) {
        this.settings = settings;
        this.board = new AlertBoard(settings.integer(MAX_ALERTS, 5000));
        this.imageTtl = settings.duration(IMAGE_TTL, Duration.ofDays(14));
        this.imageSide = settings.integer(IMAGE_SIDE, 512);
    }

    @Override
    public String name() {
        return "dashboard";
    }

    @Override
    public void start() {
        // Idempotent: creates the acknowledgements topic and registers its schema if no one has yet.
        TopicSetup.ensureAll(settings);
        ApiTokens tokens = ApiTokens.fromSettings(settings);
        staticFiles.put("index.html", resource("index.html"));
        STATIC_FILES.forEach(f -> staticFiles.put(f, resource(f)));
        AvroSerdes serdes = RegistrySettings.serdes(settings);
        redis = RedisClient.create(URI.create(settings.string(CommonKeys.REDIS_URL, CommonKeys.DEFAULT_REDIS_URL)));
        images = new ImageStore(redis, settings.string(REDIS_KEY_PREFIX, "cxr:"));
        hub = new SseHub(15);

        ackProducer = new KafkaProducer<>(KafkaSettings.producer(settings, "dashboard-acks"), new StringSerializer(),
                serdes.serializer(Topic.ALERT_ACKS));
        @SuppressWarnings({"unchecked", "rawtypes"})
        Deserializer<SpecificRecord> any = (Deserializer) serdes.deserializer(Topic.ALERTS);
        alertConsumer = new KafkaConsumer<>(boardConsumerProperties(), new StringDeserializer(), any);
        Properties tp = KafkaSettings.consumer(settings, "dashboard-images", imagesGroup(settings).id());
        // Tensors are ~130 kB each at 256 px; a few dozen per poll keeps a poll's work short.
        tp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 32);
        tensorConsumer = new KafkaConsumer<>(tp, new StringDeserializer(), serdes.deserializer(Topic.TENSORS));
        new KafkaClientMetrics(ackProducer).bindTo(metrics);
        new KafkaClientMetrics(alertConsumer).bindTo(metrics);
        new KafkaClientMetrics(tensorConsumer).bindTo(metrics);
        metrics.gauge("cxr.dashboard.alerts", board, AlertBoard::size);
        metrics.gauge("cxr.dashboard.browsers", hub, SseHub::size);

        running = true;
        alertsRunning = true;
        imagesRunning = true;
        alertLoop = new Thread(this::runAlertLoop, "dashboard-alerts");
        alertLoop.start();
        imageLoop = new Thread(this::runImageLoop, "dashboard-images");
        imageLoop.start();

        http = HttpEndpoints.start(settings, DEFAULT_HTTP_PORT, name(), this::healthy, metrics, config -> {
            // The page and its script hold no data; every /api call needs a token. EventSource and <img> cannot
            // send headers, so the stream and the pictures also take ?token=.
            tokens.protect(config, path -> path.equals("/") || path.startsWith("/static/"),
                    path -> path.equals("/api/alerts/stream") || path.startsWith("/api/images/"));
            config.routes.get("/", ctx -> ctx.contentType("text/html; charset=utf-8")
                    .header("Cache-Control", "no-store").result(staticFiles.get("index.html")));
            config.routes.get("/static/{file}", this::staticFile);
            config.routes.get("/api/whoami", ctx -> ctx.json(Map.of("site", ApiTokens.grant(ctx),
                    "token", ApiTokens.label(ctx))));
            config.routes.get("/api/alerts", this::listAlerts);
            config.routes.sse("/api/alerts/stream", this::stream);
            config.routes.get("/api/alerts/{alertId}", this::oneAlert);
            config.routes.post("/api/alerts/{alertId}/ack", this::acknowledge);
            config.routes.get("/api/images/{imageId}/cxr.png", ctx -> image(ctx, ImageStore.Plane.CXR));
            config.routes.get("/api/images/{imageId}/lung.png", ctx -> image(ctx, ImageStore.Plane.LUNG));
        });
        LOG.info("dashboard on http://{}:{}/ (open it with ?token=<API token>)",
                settings.string(CommonKeys.HTTP_HOST, "127.0.0.1"), http.port());
    }

    /** No group: assigned every partition and read from the beginning on each start, so the board is complete. */
    private Properties boardConsumerProperties() {
        Properties p = KafkaSettings.consumer(settings, "dashboard-board", "unused");
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        return p;
    }

    // ---------------------------------------------------------------------------------------------- Kafka loops

    private void runAlertLoop() {
        try {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : List.of(Topic.ALERTS.name(), Topic.ALERT_ACKS.name(), Topic.RETRACTIONS.name())) {
                alertConsumer.partitionsFor(topic, Duration.ofSeconds(30))
                        .forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
            }
            alertConsumer.assign(partitions);
            alertConsumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = alertConsumer.endOffsets(partitions, Duration.ofSeconds(30));
            long t0 = System.nanoTime();
            // One unreadable event must not stop the board (skipped, counted); an alert is never skipped because the
            // schema registry is away (read again once it answers).
            GuardedPoll guard = GuardedPoll.counting(metrics, "cxr.dashboard");
            while (running) {
                for (ConsumerRecord<String, SpecificRecord> r : guard.poll(alertConsumer, Duration.ofMillis(500))) {
                    apply(r.value());
                }
                if (!caughtUp && ends.entrySet().stream()
                        .allMatch(en -> alertConsumer.position(en.getKey()) >= en.getValue())) {
                    caughtUp = true;
                    LOG.info("board loaded in {} ms: {} alerts", (System.nanoTime() - t0) / 1_000_000, board.size());
                }
            }
        } catch (WakeupException e) {
            if (running) {
                LOG.error("dashboard alert loop woken unexpectedly", e);
            }
        } catch (Exception e) {
            LOG.error("dashboard alert loop stopped: {}", e.toString(), e);
        } finally {
            alertsRunning = false;
            alertConsumer.close(Duration.ofSeconds(5));
        }
    }

    private void apply(SpecificRecord value) {
        if (value instanceof CxrAlert alert && alert.getEvent() == org.cxrtriage.schemas.AlertEvent.RETRACTED) {
            board.retract(alert.getAlertId(), alert.getImageId(), alert.getImageCount(), alert.getRule(),
                    alert.getSites(), alert.getRevision()).ifPresent(e -> {
                        metrics.counter("cxr.dashboard.alert.events").increment();
                        hub.publish("alert", e);
                    });
        } else if (value instanceof CxrAlert alert) {
            board.upsert(AlertMapping.fromEvent(alert)).ifPresent(e -> {
                metrics.counter("cxr.dashboard.alert.events").increment();
                hub.publish("alert", e);
            });
        } else if (value instanceof org.cxrtriage.schemas.CxrRetraction retraction) {
            // Its pictures are refused from now on, also where the image is another alert's similar case.
            board.retractImage(retraction.getImageId());
        } else if (value instanceof CxrAlertAck ack) {
            board.acknowledge(AlertMapping.fromEvent(ack)).ifPresent(e -> {
                metrics.counter("cxr.dashboard.ack.events").increment();
                hub.publish("ack", e);
            });
        }
    }

    private void runImageLoop() {
        try {
            tensorConsumer.subscribe(List.of(Topic.TENSORS.name()));
            GuardedPoll guard = GuardedPoll.counting(metrics, "cxr.dashboard");
            while (running) {
                ConsumerRecords<String, ImageTensor> records = guard.poll(tensorConsumer, Duration.ofMillis(500));
                if (records.isEmpty()) {
                    continue;
                }
                try {
                    for (ConsumerRecord<String, ImageTensor> r : records) {
                        storePictures(r.value());
                    }
                    tensorConsumer.commitSync();
                } catch (JedisException e) {
                    // Redis away for a moment: the same batch again in a second, nothing committed meanwhile.
                    LOG.warn("pictures not stored, retrying: {}", e.toString());
                    metrics.counter("cxr.dashboard.images.retries").increment();
                    for (TopicPartition tp : records.partitions()) {
                        tensorConsumer.seek(tp, records.records(tp).get(0).offset());
                    }
                    Thread.sleep(1000);
                } catch (org.apache.kafka.clients.consumer.CommitFailedException
                         | org.apache.kafka.common.errors.RebalanceInProgressException
                         | org.apache.kafka.common.errors.RetriableException e) {
                    // Another instance joined or left the group: the commit is refused, and whoever owns the
                    // partitions now reads these tensors again (storing a picture twice is harmless).
                    LOG.info("pictures stored but not committed ({}); the group is rebalancing", e.toString());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (WakeupException e) {
            if (running) {
                LOG.error("dashboard image loop woken unexpectedly", e);
            }
        } catch (Exception e) {
            LOG.error("dashboard image loop stopped: {}", e.toString(), e);
        } finally {
            imagesRunning = false;
            tensorConsumer.close(Duration.ofSeconds(5));
        }
    }

    private void storePictures(ImageTensor t) {
        // Kept for the TTL from preprocessing: a replayed old tensor does not live longer than its peers.
        long ttl = imageTtl.minus(Duration.between(t.getPreprocessedAt(), Instant.now())).toSeconds();
        if (ttl <= 0) {
            return;
        }
        int size = t.getTensorSize();
        byte[] cxr;
        byte[] lung;
        try {
            cxr = PlaneImages.cxrPng(bytes(t.getCxrPlane()), size, imageSide);
            lung = PlaneImages.lungOverlayPng(bytes(t.getLungPlane()), size, imageSide);
        } catch (IllegalArgumentException e) {
            LOG.warn("no pictures for image {}: {}", t.getImageId(), e.getMessage());
            metrics.counter("cxr.dashboard.images.malformed").increment();
            return;
        }
        images.save(t.getImageId(), t.getSiteId(), cxr, lung, ttl);
        metrics.counter("cxr.dashboard.images.stored").increment();
    }

    private static byte[] bytes(java.nio.ByteBuffer b) {
        java.nio.ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    // ------------------------------------------------------------------------------------------------- HTTP API

    private static Predicate<String> visibleTo(Context ctx) {
        return site -> ApiTokens.mayActFor(ctx, site);
    }

    /** GET /api/alerts?site=&limit= : newest first, only the sites the token may see. */
    private void listAlerts(Context ctx) {
        int limit = Math.max(1, Math.min(5000, ctx.queryParamAsClass("limit", Integer.class).getOrDefault(500)));
        String site = ctx.queryParam("site");
        site = site == null || site.isBlank() ? null : site;
        if (site != null && !ApiTokens.mayActFor(ctx, site)) {
            forbidden(ctx);
            return;
        }
        Predicate<String> visible = visibleTo(ctx);
        ctx.json(Map.of("alerts", board.list(visible, site, limit).stream().map(e -> AlertMapping.json(e, visible)).toList(),
                "sites", board.sites(visible), "loaded", caughtUp));
    }

    private void oneAlert(Context ctx) {
        Optional<AlertBoard.Entry> e = board.get(ctx.pathParam("alertId"));
        if (e.isEmpty()) {
            ctx.status(404).json(Map.of("error", "UNKNOWN_ALERT", "message", "no such alert on the board"));
        } else if (!e.get().alert().visibleTo(visibleTo(ctx))) {
            forbidden(ctx);
        } else {
            ctx.json(AlertMapping.json(e.get(), visibleTo(ctx)));
        }
    }

    /** GET /api/alerts/stream : a snapshot event, then an event per change ("alert", "ack"). */
    private void stream(SseClient client) {
        Predicate<String> visible = visibleTo(client.ctx());
        int limit = Math.max(1, Math.min(5000,
                client.ctx().queryParamAsClass("limit", Integer.class).getOrDefault(500)));
        hub.subscribe(client, visible, () -> Map.of(
                "alerts", board.list(visible, null, limit).stream().map(e -> AlertMapping.json(e, visible)).toList(),
                "loaded", caughtUp));
    }

    /**
     * POST /api/alerts/{alertId}/ack {"note": "..."}: publishes the acknowledgement event; 202 once the broker has
     * it. The board (of this and every other instance) changes when the event comes back from the topic.
     */
    private void acknowledge(Context ctx) throws InterruptedException {
        Optional<AlertBoard.Entry> found = board.get(ctx.pathParam("alertId"));
        if (found.isEmpty()) {
            ctx.status(404).json(Map.of("error", "UNKNOWN_ALERT", "message", "no such alert on the board"));
            return;
        }
        AlertBoard.Entry entry = found.get();
        if (!entry.alert().visibleTo(visibleTo(ctx))) {
            forbidden(ctx);
            return;
        }
        Object rawNote = null;
        if (!ctx.body().isBlank()) {
            try {
                rawNote = ctx.bodyAsClass(Map.class).get("note");
            } catch (RuntimeException e) {
                ctx.status(400).json(Map.of("error", "MALFORMED_BODY", "message", "expected {\"note\": \"...\"}"));
                return;
            }
        }
        String note;
        try {
            note = Acknowledgement.cleanNote(rawNote);
        } catch (IllegalArgumentException e) {
            ctx.status(400).json(Map.of("error", "MALFORMED_NOTE", "message", e.getMessage()));
            return;
        }
        Acknowledgement ack = new Acknowledgement(entry.alert().alertId(), ApiTokens.label(ctx),
                System.currentTimeMillis(), note);
        try {
            ackProducer.send(new ProducerRecord<>(Topic.ALERT_ACKS.name(), ack.alertId(),
                    AlertMapping.toEvent(entry.alert(), ack, ApiTokens.grant(ctx)))).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("acknowledgement of {} not published: {}", ack.alertId(), e.toString());
            ctx.status(503).json(Map.of("error", "NOT_PUBLISHED", "message", "the broker did not take it; retry"));
            return;
        }
        metrics.counter("cxr.dashboard.acks.published").increment();
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("alertId", ack.alertId());
        answer.put("acknowledgedBy", ack.acknowledgedBy());
        answer.put("acknowledgedAt", Instant.ofEpochMilli(ack.acknowledgedAt()).toString());
        answer.put("note", ack.note());
        ctx.status(202).json(answer);
    }

    /**
     * GET /api/images/{imageId}/cxr.png|lung.png : allowed when the token may see the image's site, or an alert it
     * may see shows the image (its own or a similar case's).
     */
    private void image(Context ctx, ImageStore.Plane plane) {
        String imageId = ctx.pathParam("imageId");
        Optional<String> site = images.siteOf(imageId);
        if (site.isEmpty()) {
            ctx.status(404).json(Map.of("error", "UNKNOWN_IMAGE", "message", "no picture of that image (expired?)"));
            return;
        }
        if (!ApiTokens.mayActFor(ctx, site.get()) && !board.showsImage(imageId, visibleTo(ctx))) {
            forbidden(ctx);
            return;
        }
        Optional<byte[]> png = images.png(imageId, plane);
        if (png.isEmpty()) {
            ctx.status(404).json(Map.of("error", "UNKNOWN_IMAGE", "message", "no picture of that image (expired?)"));
            return;
        }
        ctx.contentType("image/png").header("Cache-Control", "private, max-age=3600").result(png.get());
    }

    private void staticFile(Context ctx) {
        String file = ctx.pathParam("file");
        byte[] body = STATIC_FILES.contains(file) ? staticFiles.get(file) : null;
        if (body == null) {
            ctx.status(404).result("not found");
            return;
        }
        ctx.contentType(file.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8")
                .header("Cache-Control", "no-cache").result(body);
    }

    private static void forbidden(Context ctx) {
        ctx.status(403).json(Map.of("error", "FORBIDDEN_SITE", "message", "this token may not act for that site"));
    }

    private static byte[] resource(String name) {
        try (InputStream in = DashboardService.class.getResourceAsStream("/dashboard/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource dashboard/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------------------------------------ lifecycle

    public int httpPort() {
        return http.port();
    }

    /** True once every alert and acknowledgement present at start has been read. */
    public boolean loaded() {
        return caughtUp;
    }

    @Override
    public boolean healthy() {
        return running && alertsRunning && imagesRunning;
    }

    @Override
    public void close() {
        running = false;
        if (alertConsumer != null) {
            alertConsumer.wakeup();
        }
        if (tensorConsumer != null) {
            tensorConsumer.wakeup();
        }
        for (Thread t : new Thread[] {alertLoop, imageLoop}) {
            if (t != null) {
                try {
                    t.join(15_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        // Browser streams first, while the server can still finish their responses.
        if (hub != null) {
            hub.close();
        }
        if (http != null) {
            http.close();
        }
        if (ackProducer != null) {
            ackProducer.close(Duration.ofSeconds(5));
        }
        if (redis != null) {
            redis.close();
        }
    }
}
