package org.cxrtriage.ingest;

import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.ApiTokens;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.HttpEndpoints;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.Pseudonymiser;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Service;
import org.cxrtriage.common.Settings;
import org.cxrtriage.common.TopicSetup;
import org.cxrtriage.imaging.ImageLimits;
import org.cxrtriage.schemas.AvroSerdes;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.CxrRetraction;
import org.cxrtriage.schemas.ImageReceived;
import org.cxrtriage.schemas.RegistryErrors;
import org.cxrtriage.schemas.RetractionReason;
import org.cxrtriage.schemas.Stage;
import org.cxrtriage.schemas.Topic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/**
 * Accepts X-rays over HTTP ({@code POST /images}) or from a folder, validates them with {@link ImageAdmission} and
 * publishes them to {@link Topic#IMAGES}. A {@code 202} is only returned once the broker has acknowledged the event,
 * so an accepted image is never lost. Refused inputs get a 4xx and a {@link CxrRejected} event.
 */
public final class IngestService implements Service {

    public static final int DEFAULT_HTTP_PORT = 8090;
    /** Largest accepted image in bytes (must stay below the Kafka record limit). */
    public static final String MAX_IMAGE_BYTES = "INGEST_MAX_IMAGE_BYTES";
    /** Refuse a byte-identical copy of an image accepted within the window (reporting the first image id). */
    public static final String DEDUP = "INGEST_DEDUP";
    public static final String DEDUP_WINDOW = CommonKeys.DEDUP_WINDOW;
    /** How long the broker may take to acknowledge an image before the sender is told to retry (503). */
    static final int DELIVERY_TIMEOUT_MS = 30_000;
    /** How long a send may wait for metadata or for room in a full buffer (folder mode): Kafka's default, stated. */
    static final int MAX_BLOCK_MS = 60_000;
    /**
     * From a claim to the end of its send, however it ends: the wait for metadata or buffer room, the Avro
     * serialiser's calls to the registry (3 tries of 10 s and their pauses, README), then the delivery timeout.
     */
    static final java.time.Duration SEND_SPAN =
            java.time.Duration.ofMillis(MAX_BLOCK_MS + 35_000L + DELIVERY_TIMEOUT_MS);
    /** What {@link #SEND_SPAN} allows the serialiser's registry calls (31.75 s with the default 10 s timeout). */
    static final java.time.Duration REGISTRY_CALLS = java.time.Duration.ofSeconds(35);
    /**
     * How long an unacknowledged image stays undecided after its claim: its send has ended, a record the broker took
     * but had not replicated (acks=all) has become visible (replica.lag.time.max.ms, 30 s, until a slow follower
     * leaves the in-sync set, with room to spare), and clocks of ingest instances may differ by 15 s. A claim pending
     * this long has no live holder; an uncertain one is looked up in the topic only after it, once, with an answer
     * that then holds.
     */
    static final java.time.Duration UNSETTLED_FOR = SEND_SPAN.plus(java.time.Duration.ofSeconds(40 + 15));
    /** When lookups in the topic have failed for this long, the copy is published (under the same id) unchecked. */
    static final java.time.Duration LOOKUP_GIVE_UP = java.time.Duration.ofMinutes(10);
    /** Clock differences between ingest instances that a topic lookup allows for. */
    private static final java.time.Duration CLOCK_MARGIN = java.time.Duration.ofMinutes(1);
    /** Topic lookups at once: each reads image bytes; a burst of unacknowledged uploads must not pile them up. */
    private final java.util.concurrent.Semaphore lookups = new java.util.concurrent.Semaphore(2);

    private static final Logger LOG = LoggerFactory.getLogger(IngestService.class);

    private final Settings settings;
    private final Clock clock;
    private final ImageAdmission admission;
    private final ApiTokens tokens;
    private final PrometheusMeterRegistry metrics = HttpEndpoints.newMeterRegistry("ingest");
    private final Timer admitTimer = metrics.timer("cxr.ingest.admit");
    private Producer<String, SpecificRecord> producer;
    private HttpEndpoints http;
    private RedisClient redis;
    private DuplicateGuard duplicates;
    /** Asked when a send timed out: did the broker store the image anyway? */
    private StoredImages storedImages;
    private volatile boolean running;

    public IngestService(Settings settings) {
        this(settings, Clock.systemUTC());
    }

    /** With the clock that dates images and decides when an unacknowledged upload may be taken over (tests). */
    IngestService(Settings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        ImageLimits defaults = ImageLimits.defaults();
        long maxBytes = settings.longValue(MAX_IMAGE_BYTES,
                Math.min(defaults.maxBytes(), KafkaSettings.MAX_RECORD_BYTES - 1024 * 1024));
        this.admission = new ImageAdmission(Pseudonymiser.fromSettings(settings),
                new ImageLimits(maxBytes, defaults.maxPixels(), defaults.minSide()), clock);
        this.tokens = ApiTokens.fromSettings(settings);
    }

    @Override
    public String name() {
        return "ingest";
    }

    @Override
    public void start() {
        boolean dedup = settings.flag(DEDUP, true);
        java.time.Duration window = dedup ? checkedDedupSettings(settings) : null;
        // Idempotent: whichever service starts first creates the topics and registers the schemas.
        TopicSetup.ensureAll(settings);
        AvroSerdes serdes = RegistrySettings.serdes(settings);
        if (dedup) {
            redis = RedisClient.create(java.net.URI.create(settings.string(
                    org.cxrtriage.common.CommonKeys.REDIS_URL, org.cxrtriage.common.CommonKeys.DEFAULT_REDIS_URL)));
            duplicates = new DuplicateGuard(redis, settings.string(org.cxrtriage.common.CommonKeys.REDIS_KEY_PREFIX, "cxr:"),
                    window, UNSETTLED_FOR, clock);
        }
        storedImages = StoredImages.inTopic(KafkaSettings.consumer(settings, "ingest-stored-check", "unused"),
                Topic.IMAGES.name(), java.time.Duration.ofSeconds(10));
        startHttp(new KafkaProducer<>(producerProperties(settings), new StringSerializer(), serdes.anySerializer()));
    }

    /**
     * The duplicate check's window, after checking the settings it depends on: the window must be far longer than
     * {@link #UNSETTLED_FOR}, or a pending claim would expire before it could be seen to have no holder and its retry
     * be stored under a second id; and the serialiser's registry calls must fit in {@link #SEND_SPAN}.
     */
    static java.time.Duration checkedDedupSettings(Settings settings) {
        java.time.Duration window = settings.duration(DEDUP_WINDOW, CommonKeys.DEFAULT_DEDUP_WINDOW);
        java.time.Duration least = UNSETTLED_FOR.plus(LOOKUP_GIVE_UP).multipliedBy(2);
        if (window.compareTo(least) < 0) {
            throw new IllegalArgumentException(DEDUP_WINDOW + " must be at least " + least.toMinutes()
                    + " minutes, was " + window);
        }
        java.time.Duration registryCalls = RegistrySettings.serializerCallDeadline(settings);
        if (registryCalls.compareTo(REGISTRY_CALLS) > 0) {
            throw new IllegalArgumentException("the registry timeout lets one send wait " + registryCalls
                    + " for the registry, more than the " + REGISTRY_CALLS + " that ingest's duplicate check allows a "
                    + "send; set " + RegistrySettings.REGISTRY_TIMEOUT_MS + " to at most 10000");
        }
        return window;
    }

    /**
     * Each upload waits for its image's acknowledgement before it is answered, so images are sent at once (linger 0)
     * rather than held for company that at normal load does not come; and the producer gives up within the HTTP
     * wait, so the sender gets a 503 and retries rather than a late, unknown outcome.
     */
    static java.util.Properties producerProperties(Settings settings) {
        java.util.Properties pp = KafkaSettings.producer(settings, "ingest", 0);
        pp.put(org.apache.kafka.clients.producer.ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, DELIVERY_TIMEOUT_MS);
        pp.put(org.apache.kafka.clients.producer.ProducerConfig.MAX_BLOCK_MS_CONFIG, MAX_BLOCK_MS);
        pp.put(org.apache.kafka.clients.producer.ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return pp;
    }

    /**
     * Serves HTTP and publishes through the given producer. Called by {@link #start()} after topic setup and Redis;
     * called directly it is the seam for tests without a broker (e.g. with a {@code MockProducer}), and then
     * duplicates are not checked.
     */
    void startHttp(Producer<String, SpecificRecord> producer) {
        startHttp(producer, duplicates, storedImages);
    }

    /**
     * As {@link #startHttp(Producer)}, checking duplicates with the given guard (null: none) and, after a send timed
     * out, the topic through {@code stored} (null: as a topic that cannot be read).
     */
    void startHttp(Producer<String, SpecificRecord> producer, DuplicateGuard guard, StoredImages stored) {
        this.duplicates = guard;
        this.storedImages = stored;
        this.producer = producer;
        new KafkaClientMetrics(producer).bindTo(metrics);
        running = true;
        http = HttpEndpoints.start(settings, DEFAULT_HTTP_PORT, name(), this::healthy, metrics, config -> {
            long maxBody = maxBody();
            config.http.maxRequestSize = maxBody;
            config.jetty.multipartConfig.maxFileSize(maxBody, io.javalin.config.SizeUnit.BYTES);
            config.jetty.multipartConfig.maxTotalRequestSize(maxBody, io.javalin.config.SizeUnit.BYTES);
            tokens.protect(config);
            config.routes.post("/images", this::handleUpload);
            config.routes.delete("/images/{imageId}", this::handleRetraction);
        });
        LOG.info("ingest listening on port {}", http.port());
    }

    public int httpPort() {
        return http.port();
    }

    @Override
    public boolean healthy() {
        return running;
    }

    /** Validates and publishes one image; returns its event once the broker has acknowledged it. */
    public ImageReceived submit(IngestMetadata meta, String contentType, byte[] bytes) {
        return submitAsync(meta, contentType, bytes).join();
    }

    /**
     * Validates synchronously (throws {@link IngestRejection}) and publishes asynchronously, for folder mode where
     * many images are in flight at once.
     */
    public CompletableFuture<ImageReceived> submitAsync(IngestMetadata meta, String contentType, byte[] bytes) {
        ImageReceived event;
        DuplicateGuard.Claim claim;
        try {
            event = admitTimer.record(() -> admission.admit(meta, contentType, bytes));
            claim = claim(event);
            if (claim != null && !claim.mine()) {
                if (claim.stored()) {
                    throw new DuplicateImage(claim.imageId());
                }
                if (!claim.uncertain()) {
                    throw new IngestRejection(503, "UPLOAD_IN_PROGRESS",
                            "an identical image is being stored right now; retry in a few seconds");
                }
                claim = resolveUncertain(event, claim);
                event.setImageId(claim.imageId());
                // Published under the earlier upload's id, but with this upload's site and patient.
                rememberForRetraction(event);
            }
        } catch (IngestRejection r) {
            if (r.httpStatus() < 500) { // a 5xx is "retry", not a verdict on the image
                publishRejection(r, meta, contentType);
            }
            throw r;
        }
        CompletableFuture<ImageReceived> done = new CompletableFuture<>();
        try {
            send(event, claim, done);
        } catch (RuntimeException e) {
            // Refused before it reached the producer's buffer (the schema registry did not answer, the producer is
            // closing): not stored, so a retry of the same file must not be refused as a duplicate.
            settle(event, claim, false);
            done.completeExceptionally(e);
        }
        return done;
    }

    /**
     * This image's duplicate claim; null when there is no guard, or Redis cannot be asked. Then the image is taken
     * without the check (counted, warned): Kafka stores it and the pipeline scores it once Redis is back, where
     * refusing it would hold up a patient's triage for a cache; the cost is that a copy sent during the outage is
     * not recognised.
     */
    private DuplicateGuard.Claim claim(ImageReceived event) {
        if (duplicates == null) {
            return null;
        }
        DuplicateGuard.Claim claim;
        try {
            claim = duplicates.claim(event.getSha256(), event.getImageId());
        } catch (RuntimeException redisDown) {
            metrics.counter("cxr.ingest.dedup.unavailable").increment();
            LOG.warn("duplicate check unavailable, image {} taken without it: {}", event.getImageId(),
                    redisDown.toString());
            return null;
        }
        if (claim.mine()) {
            rememberForRetraction(event);
        }
        return claim;
    }

    /** What a retraction of this image will need: its site, patient and content (see {@link RetractableImages}). */
    private void rememberForRetraction(ImageReceived event) {
        try {
            duplicates.images().remember(event.getImageId(), event.getSiteId(), event.getPatientRef(),
                    event.getSha256());
        } catch (RuntimeException redisDown) {
            LOG.warn("image {} taken, but it cannot be retracted: {}", event.getImageId(), redisDown.toString());
        }
    }

    /**
     * An earlier send of this content was not acknowledged (it timed out, or its instance died), so the broker may
     * or may not have stored it. Until {@link #UNSETTLED_FOR} after its claim the answer could still change: 503,
     * retry then. After it, one look in the topic for the record (stamped with the claim's time): there, this copy
     * is a duplicate of it (409 with its id); not there, this upload takes the claim over and is published under the
     * same image id. While the topic cannot be read, 503, until lookups have failed for {@link #LOOKUP_GIVE_UP}:
     * then the copy is published under the same id unchecked. Returns the claim taken over.
     */
    private DuplicateGuard.Claim resolveUncertain(ImageReceived event, DuplicateGuard.Claim claim) {
        Instant claimedAt = claim.claimedAt();
        Instant decidable = claimedAt.plus(UNSETTLED_FOR);
        Instant now = clock.instant();
        if (now.isBefore(decidable)) {
            java.time.Duration wait =
                    java.time.Duration.ofSeconds(java.time.Duration.between(now, decidable).toSeconds() + 1);
            throw new IngestRejection(503, "UPLOAD_IN_PROGRESS", "an earlier upload of this image was not "
                    + "acknowledged; retry in " + wait.toSeconds() + " s", wait);
        }
        Lookup found = lookUp(claim);
        if (found == Lookup.BUSY) {
            throw new IngestRejection(503, "UPLOAD_IN_PROGRESS", "an earlier upload of this image was not "
                    + "acknowledged and other checks are running; retry in a few seconds");
        }
        boolean unchecked = false;
        if (found == Lookup.FAILED) {
            Instant failingSince = failingSince(event.getSha256(), now);
            if (now.isBefore(failingSince.plus(LOOKUP_GIVE_UP))) {
                throw new IngestRejection(503, "BROKER_UNAVAILABLE",
                        "an earlier upload of this image was not acknowledged and cannot be checked yet; retry later");
            }
            unchecked = true; // better scored twice under one id than never: the topic has been unreadable (ACLs?)
        }
        if (found == Lookup.FOUND) {
            metrics.counter("cxr.ingest.dedup.uncertain", "outcome", "found").increment();
            try {
                duplicates.confirmFound(event.getSha256(), claim);
                duplicates.clearLookupFailures(event.getSha256());
            } catch (RuntimeException redisDown) {
                LOG.warn("could not mark image {} stored for deduplication: {}", claim.imageId(), redisDown.toString());
            }
            throw new DuplicateImage(claim.imageId());
        }
        DuplicateGuard.Claim mine = null;
        try {
            mine = duplicates.takeOver(event.getSha256(), claim);
            if (mine != null) {
                duplicates.clearLookupFailures(event.getSha256());
            }
        } catch (RuntimeException redisDown) {
            LOG.warn("duplicate check unavailable while resolving image {}: {}", claim.imageId(), redisDown.toString());
        }
        if (mine == null) {
            throw new IngestRejection(503, "UPLOAD_IN_PROGRESS",
                    "an identical image is being stored right now; retry in a few seconds");
        }
        if (unchecked) {
            LOG.error("image {} published again without checking the topic for its unacknowledged first send: "
                    + "lookups have failed for {}", claim.imageId(), LOOKUP_GIVE_UP);
        }
        metrics.counter("cxr.ingest.dedup.uncertain", "outcome", unchecked ? "unchecked" : "taken_over").increment();
        return mine;
    }

    private Instant failingSince(String sha256, Instant now) {
        try {
            return duplicates.lookupsFailingSince(sha256);
        } catch (RuntimeException redisDown) {
            return now; // not counted: the give-up waits for Redis too
        }
    }

    /** What a look in the topic said. */
    private enum Lookup { FOUND, ABSENT, FAILED, BUSY }

    private Lookup lookUp(DuplicateGuard.Claim claim) {
        if (storedImages == null) {
            return Lookup.FAILED;
        }
        if (!lookups.tryAcquire()) {
            return Lookup.BUSY;
        }
        try {
            Instant claimedAt = claim.claimedAt();
            // A record stamped later than the end of the span was appended after any send of this claim.
            return storedImages.contains(claim.imageId(), claimedAt, claimedAt.plus(SEND_SPAN).plus(CLOCK_MARGIN))
                    ? Lookup.FOUND : Lookup.ABSENT;
        } catch (RuntimeException e) {
            metrics.counter("cxr.ingest.dedup.lookup.failed").increment();
            LOG.warn("could not check whether image {}, whose send was not acknowledged, was stored: {}",
                    claim.imageId(), e.toString());
            return Lookup.FAILED;
        } finally {
            lookups.release();
        }
    }

    /**
     * After a failed send: a claim whose image was certainly not written is given up, so a retry is a new image;
     * otherwise it stays, uncertain, for the retry to look up. A failure here leaves the claim pending, which the
     * next copy treats as uncertain once {@link #UNSETTLED_FOR} has passed.
     */
    private void settle(ImageReceived event, DuplicateGuard.Claim claim, boolean maybeWritten) {
        if (claim == null) {
            return;
        }
        try {
            if (maybeWritten) {
                duplicates.markUncertain(event.getSha256(), claim);
            } else {
                duplicates.release(event.getSha256(), claim);
            }
        } catch (RuntimeException redisDown) {
            LOG.warn("could not update the duplicate claim of image {}: {}", event.getImageId(), redisDown.toString());
        }
    }

    /**
     * Errors after which the broker certainly did not write the record. Any other (a delivery timeout above all)
     * may come after the broker wrote it without the acknowledgement reaching us.
     */
    static boolean certainlyNotWritten(Throwable e) {
        return e instanceof org.apache.kafka.common.errors.RecordTooLargeException
                || e instanceof org.apache.kafka.common.errors.RecordBatchTooLargeException
                || e instanceof org.apache.kafka.common.errors.InvalidTopicException
                || e instanceof org.apache.kafka.common.errors.SerializationException
                || e instanceof org.apache.kafka.common.errors.AuthorizationException
                || e instanceof org.apache.kafka.common.errors.AuthenticationException
                // No room in the buffer within max.block.ms: refused before it was appended.
                || e instanceof org.apache.kafka.clients.producer.BufferExhaustedException;
    }

    private void send(ImageReceived event, DuplicateGuard.Claim claim, CompletableFuture<ImageReceived> done) {
        // The record's timestamp is its claim's time, so that a lookup after a timeout knows where to start.
        Long timestamp = claim != null ? claim.claimedAt().toEpochMilli() : null;
        producer.send(new ProducerRecord<>(Topic.IMAGES.name(), null, timestamp, event.getImageId(), event),
                (md, e) -> {
                    if (e == null) {
                        if (claim != null) {
                            try {
                                duplicates.confirm(event.getSha256(), claim);
                            } catch (RuntimeException redisDown) {
                                // Stored; the claim stays pending, and a copy after UNSETTLED_FOR looks it up.
                                LOG.warn("could not mark image {} stored for deduplication: {}", event.getImageId(),
                                        redisDown.toString());
                            }
                        }
                        metrics.counter("cxr.ingest.accepted", "site", event.getSiteId()).increment();
                        done.complete(event);
                    } else {
                        settle(event, claim, !certainlyNotWritten(e));
                        done.completeExceptionally(new UnacknowledgedImage(event, e));
                    }
                });
    }

    private void publishRejection(IngestRejection r, IngestMetadata meta, String contentType) {
        metrics.counter("cxr.ingest.rejected", "reason", r.reasonCode()).increment();
        CxrRejected rejected = CxrRejected.newBuilder()
                .setImageId(UUID.randomUUID().toString())
                .setStage(Stage.INGEST)
                .setReasonCode(r.reasonCode())
                .setMessage(r.getMessage())
                .setStudyId(meta.studyId())
                .setSiteId(meta.siteId())
                .setViewPosition(meta.viewPosition())
                .setContentType(contentType)
                .setRejectedAt(Instant.now())
                .build();
        try {
            producer.send(new ProducerRecord<>(Topic.REJECTED.name(), rejected.getImageId(), rejected), (md, e) -> {
                if (e != null) {
                    LOG.warn("could not publish an ingest rejection: {}", e.toString());
                }
            });
        } catch (RuntimeException e) {
            // The sender already gets the 4xx with the reason; the audit event is best effort.
            LOG.warn("could not publish an ingest rejection: {}", e.toString());
        }
        // No study id here: hospitals send accession numbers, and a log is no place for them.
        LOG.info("rejected upload from site {}: {} ({})", meta.siteId(), r.reasonCode(), r.getMessage());
    }

    /** Largest request body read at all: the image limit plus room for the multipart envelope and form fields. */
    private long maxBody() {
        return admission.limits().maxBytes() + 64 * 1024L;
    }

    private void handleUpload(Context ctx) throws IOException {
        String contentType = ctx.contentType() == null ? "" : ctx.contentType();
        if (ctx.contentLength() > maxBody()) {
            // Refused before a byte of the body is read.
            refuseBody(ctx, contentType, tooLarge(ctx.contentLength()));
            return;
        }
        byte[] bytes;
        String partType;
        boolean multipart = contentType.startsWith("multipart/form-data");
        try {
            if (multipart) {
                UploadedFile file = ctx.uploadedFile("image");
                if (file == null) {
                    reject(ctx, new IngestRejection(400, "MISSING_FIELD", "multipart field 'image' (the file) is required"));
                    return;
                }
                try (InputStream in = file.content()) {
                    bytes = in.readAllBytes();
                }
                partType = file.contentType();
            } else {
                bytes = ctx.bodyAsBytes();
                partType = contentType;
            }
        } catch (Exception e) {
            // Jetty and Javalin signal a body over the limit (chunked, so no Content-Length to check first) or a broken
            // multipart envelope with their own exceptions, which would otherwise become a 500 or a bare 413.
            refuseBody(ctx, contentType, bodyRejection(e));
            return;
        }
        IngestMetadata meta = new IngestMetadata(param(ctx, multipart, "patientId"), param(ctx, multipart, "studyId"),
                param(ctx, multipart, "siteId"), param(ctx, multipart, "deviceId"), param(ctx, multipart, "viewPosition"),
                param(ctx, multipart, "acquisitionTime"));
        if (meta.siteId() != null && !ApiTokens.mayActFor(ctx, meta.siteId())) {
            ctx.status(403).json(Map.of("error", "FORBIDDEN_SITE", "message",
                    "this token may not submit images for site " + meta.siteId()));
            return;
        }
        try {
            ImageReceived event = submitAsync(meta, partType, bytes).get(DELIVERY_TIMEOUT_MS + 5_000L,
                    TimeUnit.MILLISECONDS);
            ctx.status(202).json(Map.of("imageId", event.getImageId(), "studyId", event.getStudyId(),
                    "patientRef", event.getPatientRef(), "sha256", event.getSha256()));
        } catch (IngestRejection r) {
            reject(ctx, r);
        } catch (ExecutionException | TimeoutException e) {
            UnacknowledgedImage unacknowledged = e.getCause() instanceof UnacknowledgedImage u ? u : null;
            boolean registry = RegistryErrors.unavailable(
                    unacknowledged != null ? unacknowledged.getCause() : e.getCause());
            LOG.error("{} an image: {}", registry ? "schema registry unavailable, could not store"
                    : "broker did not acknowledge", e.toString());
            Map<String, String> body = new java.util.LinkedHashMap<>();
            body.put("error", registry ? "REGISTRY_UNAVAILABLE" : "BROKER_UNAVAILABLE");
            if (unacknowledged == null) {
                body.put("message", "the image could not be stored; retry later");
            } else {
                // The broker may have it all the same: a retry answered 409 with this id is this upload, stored.
                body.put("message", "the broker did not acknowledge the image; retry later");
                body.put("imageId", unacknowledged.event().getImageId());
            }
            ctx.status(503).json(body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ctx.status(503);
        }
    }

    /**
     * DELETE /images/{imageId}?reason=WRONG_PATIENT|WRONG_IMAGE|OTHER: the image's site withdraws an image it sent
     * (under the wrong patient, say). The retraction is published (202 once the broker has it); the similarity service
     * then takes the case out of the similar cases and out of its patient's alert, and drops its score if it is still
     * in the pipeline. The image's content is no longer a duplicate, so the same X-ray can be sent again under the
     * right patient. Asking again answers 202 without publishing again.
     */
    private void handleRetraction(Context ctx) {
        String imageId = ctx.pathParam("imageId");
        RetractionReason reason;
        try {
            String raw = ctx.queryParam("reason");
            reason = raw == null || raw.isBlank() ? RetractionReason.OTHER
                    : RetractionReason.valueOf(raw.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            ctx.status(400).json(Map.of("error", "MALFORMED_FIELD", "message",
                    "reason must be one of " + java.util.Arrays.toString(RetractionReason.values())));
            return;
        }
        if (duplicates == null) {
            ctx.status(501).json(Map.of("error", "RETRACTION_UNAVAILABLE", "message",
                    "retraction needs the duplicate check's Redis (" + DEDUP + "=true)"));
            return;
        }
        RetractableImages images = duplicates.images();
        RetractableImages.Known known;
        try {
            known = images.find(imageId).orElse(null);
        } catch (RuntimeException redisDown) {
            LOG.warn("cannot look up image {} to retract it: {}", imageId, redisDown.toString());
            ctx.header("Retry-After", "5");
            ctx.status(503).json(Map.of("error", "REDIS_UNAVAILABLE", "message", "retry later"));
            return;
        }
        if (known == null) {
            ctx.status(404).json(Map.of("error", "UNKNOWN_IMAGE", "message", "no image " + imageId
                    + " was taken here within " + DEDUP_WINDOW + " (or its record could not be kept)"));
            return;
        }
        if (!ApiTokens.mayActFor(ctx, known.siteId())) {
            ctx.status(403).json(Map.of("error", "FORBIDDEN_SITE", "message",
                    "this token may not retract images of that site"));
            return;
        }
        if (!known.retracted()) {
            CxrRetraction retraction = CxrRetraction.newBuilder()
                    .setImageId(imageId)
                    .setPatientRef(known.patientRef())
                    .setSiteId(known.siteId())
                    .setReason(reason)
                    .setRetractedBy(ApiTokens.label(ctx) == null ? "no-token" : ApiTokens.label(ctx))
                    .setRetractedAt(clock.instant())
                    .build();
            try {
                producer.send(new ProducerRecord<>(Topic.RETRACTIONS.name(), imageId, retraction))
                        .get(DELIVERY_TIMEOUT_MS + 5_000L, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ctx.status(503);
                return;
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                LOG.error("broker did not acknowledge the retraction of image {}: {}", imageId, e.toString());
                ctx.header("Retry-After", "5");
                ctx.status(503).json(Map.of("error", "BROKER_UNAVAILABLE", "message",
                        "the retraction could not be stored; retry later"));
                return;
            }
            metrics.counter("cxr.ingest.retracted", "site", known.siteId(), "reason", reason.name()).increment();
            LOG.info("image {} of site {} retracted ({})", imageId, known.siteId(), reason);
        }
        try {
            images.markRetracted(imageId, known);
            duplicates.forget(known.sha256(), imageId);
        } catch (RuntimeException redisDown) {
            // Published: asking again publishes it again (harmless) and frees the content then.
            LOG.warn("image {} retracted, but its content is still held as a duplicate: {}", imageId,
                    redisDown.toString());
        }
        ctx.status(202).json(Map.of("imageId", imageId, "retracted", true, "alreadyRetracted", known.retracted()));
    }

    private IngestRejection tooLarge(long bodyBytes) {
        return new IngestRejection(413, "TOO_MANY_BYTES", "the request body has " + (bodyBytes < 0 ? "more than "
                + maxBody() : bodyBytes) + " bytes; images of at most " + admission.limits().maxBytes()
                + " bytes are accepted");
    }

    private IngestRejection bodyRejection(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if ((t instanceof io.javalin.http.HttpResponseException h && h.getStatus() == 413)
                    || m.contains("max length exceeded") || m.contains("exceeds max") || m.contains("too large")) {
                return tooLarge(-1);
            }
        }
        return new IngestRejection(400, "MALFORMED_REQUEST", "the request body cannot be read: " + e.getMessage());
    }

    /** A refusal before the form fields could be read: the metadata comes from the query string and headers only. */
    private void refuseBody(Context ctx, String contentType, IngestRejection r) {
        IngestMetadata meta = new IngestMetadata(null, queryOrHeader(ctx, "studyId"), queryOrHeader(ctx, "siteId"),
                null, queryOrHeader(ctx, "viewPosition"), null);
        publishRejection(r, meta, contentType);
        reject(ctx, r);
    }

    private static String queryOrHeader(Context ctx, String name) {
        String v = ctx.queryParam(name);
        return v != null ? v : ctx.header("X-" + name);
    }

    /**
     * A form field (multipart uploads only: on a raw image body Javalin would decode the whole image as URL-encoded
     * text to look for one, about a third of this service's CPU), else the query string, else an X- header.
     */
    private static String param(Context ctx, boolean multipart, String name) {
        String v = multipart ? ctx.formParam(name) : null;
        if (v == null) {
            v = ctx.queryParam(name);
        }
        if (v == null) {
            v = ctx.header("X-" + name);
        }
        return v;
    }

    private static void reject(Context ctx, IngestRejection r) {
        if (r.httpStatus() == 503) {
            ctx.header("Retry-After", r.retryAfter() == null ? "2" : Long.toString(r.retryAfter().toSeconds()));
        }
        if (r instanceof DuplicateImage d) {
            ctx.status(r.httpStatus()).json(Map.of("error", r.reasonCode(), "message", r.getMessage(),
                    "imageId", d.firstImageId()));
            return;
        }
        ctx.status(r.httpStatus()).json(Map.of("error", r.reasonCode(), "message", r.getMessage()));
    }

    public void flush() {
        producer.flush();
    }

    @Override
    public void close() {
        running = false;
        if (http != null) {
            http.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (redis != null) {
            redis.close();
        }
    }
}
