package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.ApiTokens;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.Pseudonymiser;
import org.cxrtriage.common.Settings;
import org.cxrtriage.schemas.ImageReceived;
import org.cxrtriage.schemas.Topic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * A send that timed out may still have been written by the broker: the sender's retry must be neither stored under a
 * second image id nor lost. Real Redis ($REDIS_URL) for the claims; the producer is Kafka's {@code MockProducer}, whose
 * sends complete or fail when the test says; the topic lookup is a list the test fills (the Kafka lookup itself:
 * {@code StoredImagesTest} in the launcher, against the real broker); the clock is the test's.
 */
@org.junit.jupiter.api.Timeout(value = 60, unit = java.util.concurrent.TimeUnit.SECONDS)
class TimedOutSendTest {

    private static final IngestMetadata META = new IngestMetadata("MRN-1", "study-1", "site-a", null, "PA", null);
    private static final RuntimeException DELIVERY_TIMEOUT =
            new TimeoutException("Expiring 1 record(s) for cxr.images.v1-0: 30000 ms has passed");

    private RedisClient redis;
    private String prefix;
    private final TestClock clock = new TestClock(Instant.now().truncatedTo(ChronoUnit.MILLIS));
    private MockProducer<String, SpecificRecord> producer;
    private IngestService service;
    private DuplicateGuard guard;
    /** The image ids "in the topic", and the spans the service asked about: [from, to). */
    private final List<String> inTopic = new ArrayList<>();
    private final List<Instant[]> asked = new ArrayList<>();
    private RuntimeException topicUnreadable;
    private byte[] png;

    @BeforeEach
    void start() throws Exception {
        redis = RedisClient.create(URI.create(System.getenv().getOrDefault(CommonKeys.REDIS_URL,
                CommonKeys.DEFAULT_REDIS_URL)));
        prefix = "cxr:unit-" + UUID.randomUUID() + ":";
        producer = new MockProducer<>(false, null, new StringSerializer(), (topic, value) -> new byte[0]);
        service = new IngestService(Settings.of(Map.of(CommonKeys.HTTP_HOST, "127.0.0.1", CommonKeys.HTTP_PORT, "0",
                ApiTokens.TOKENS, "timed-out-token-0123456789=*", Pseudonymiser.KEY_SETTING,
                "timed-out-key-0123456789")), clock);
        guard = new DuplicateGuard(redis, prefix, Duration.ofDays(1), IngestService.UNSETTLED_FOR, clock);
        service.startHttp(producer, guard, (imageId, from, to) -> {
                    asked.add(new Instant[] {from, to});
                    if (topicUnreadable != null) {
                        throw topicUnreadable;
                    }
                    return inTopic.contains(imageId);
                });
        png = ImageAdmissionTest.image("png", 200, 160, BufferedImage.TYPE_BYTE_GRAY);
    }

    @AfterEach
    void stop() {
        service.close();
        redis.keys(prefix + "*").forEach(redis::del);
        redis.close();
    }

    /** Sends the image and lets the broker's answer be {@code error} (null: acknowledged); returns its event. */
    private ImageReceived send(RuntimeException error) {
        CompletableFuture<ImageReceived> f = service.submitAsync(META, "image/png", png);
        if (error == null) {
            producer.completeNext();
            return f.join();
        }
        producer.errorNext(error);
        assertThat(f).isCompletedExceptionally();
        return images().get(images().size() - 1);
    }

    private List<ImageReceived> images() {
        return producer.history().stream().filter(r -> r.topic().equals(Topic.IMAGES.name()))
                .map(r -> (ImageReceived) r.value()).toList();
    }

    private void assertRetryLater(String message) {
        assertThatThrownBy(() -> service.submitAsync(META, "image/png", png))
                .isInstanceOfSatisfying(IngestRejection.class, r -> assertThat(r.httpStatus()).isEqualTo(503))
                .hasMessageContaining(message);
    }

    /** Moves the clock to just before, or just after, the time an unacknowledged claim made at {@code t} is decided. */
    private void justBefore(Instant t) {
        clock.advance(Duration.between(clock.instant(), t.plus(IngestService.UNSETTLED_FOR)).minusMillis(1));
    }

    private void atDecision(Instant t) {
        clock.advance(Duration.between(clock.instant(), t.plus(IngestService.UNSETTLED_FOR)));
    }

    @Test
    void aRetryAfterATimeoutThatWasStoredAnywayIsTheFirstImageNotASecondCase() {
        Instant claimedAt = clock.instant();
        ImageReceived first = send(DELIVERY_TIMEOUT);
        assertThat(producer.history().get(0).timestamp()).as("stamped with its claim's time")
                .isEqualTo(claimedAt.toEpochMilli());
        inTopic.add(first.getImageId()); // the broker had written it

        clock.advance(Duration.ofSeconds(40));
        assertRetryLater("retry in ");
        justBefore(claimedAt);
        assertRetryLater("retry in 1 s");
        assertThatThrownBy(() -> service.submitAsync(META, "image/png", png)).isInstanceOfSatisfying(
                IngestRejection.class, r -> assertThat(r.retryAfter()).as("Retry-After").hasSeconds(1));
        assertThat(asked).as("not looked up while the answer could change").isEmpty();
        atDecision(claimedAt);

        assertThatThrownBy(() -> service.submitAsync(META, "image/png", png))
                .isInstanceOfSatisfying(DuplicateImage.class,
                        d -> assertThat(d.firstImageId()).isEqualTo(first.getImageId()));
        assertThat(images()).as("nothing published again").hasSize(1);
        assertThat(asked).singleElement().satisfies(span -> {
            assertThat(span[0]).as("from the record's stamp").isEqualTo(claimedAt);
            assertThat(span[1]).as("to the end of any send of that claim, and a clock margin")
                    .isEqualTo(claimedAt.plus(IngestService.SEND_SPAN).plus(Duration.ofMinutes(1)));
        });
        // From now on a plain stored duplicate: the topic is not asked again.
        assertThatThrownBy(() -> service.submitAsync(META, "image/png", png)).isInstanceOf(DuplicateImage.class);
        assertThat(asked).hasSize(1);
    }

    @Test
    void aRetryAfterATimeoutThatWasNotStoredIsPublishedUnderTheSameIdOnceItCannotAppear() {
        Instant claimedAt = clock.instant();
        ImageReceived first = send(DELIVERY_TIMEOUT);
        justBefore(claimedAt);
        assertRetryLater("not acknowledged");
        atDecision(claimedAt);

        Instant takenAt = clock.instant();
        ImageReceived retry = send(null);

        assertThat(retry.getImageId()).as("same id: never a second case for one X-ray").isEqualTo(first.getImageId());
        assertThat(images()).extracting(ImageReceived::getImageId).containsExactly(first.getImageId(),
                first.getImageId());
        assertThat(producer.history().get(1).timestamp()).as("stamped with the new claim's time")
                .isEqualTo(takenAt.toEpochMilli());
        assertThatThrownBy(() -> service.submitAsync(META, "image/png", png))
                .isInstanceOfSatisfying(DuplicateImage.class,
                        d -> assertThat(d.firstImageId()).isEqualTo(first.getImageId()));
    }

    @Test
    void aCopyTakenOverUnderAnotherPatientAndSiteIsRetractableAsWhatWasPublished() {
        Instant claimedAt = clock.instant();
        ImageReceived first = send(DELIVERY_TIMEOUT);
        assertThat(guard.images().find(first.getImageId())).get()
                .extracting(RetractableImages.Known::siteId).isEqualTo("site-a");
        atDecision(claimedAt);

        CompletableFuture<ImageReceived> copy = service.submitAsync(
                new IngestMetadata("MRN-2", "study-2", "site-b", null, "PA", null), "image/png", png);
        producer.completeNext();
        ImageReceived taken = copy.join();

        assertThat(taken.getImageId()).isEqualTo(first.getImageId());
        RetractableImages.Known known = guard.images().find(taken.getImageId()).orElseThrow();
        assertThat(known.siteId()).isEqualTo("site-b");
        assertThat(known.patientRef()).isEqualTo(taken.getPatientRef()).isNotEqualTo(first.getPatientRef());
        assertThat(known.sha256()).isEqualTo(taken.getSha256());
    }

    @Test
    void aTimeoutAfterATakeOverLeavesTheClaimUncertainFromTheTakeOver() {
        Instant claimedAt = clock.instant();
        ImageReceived first = send(DELIVERY_TIMEOUT);
        atDecision(claimedAt);
        Instant takenAt = clock.instant();

        send(DELIVERY_TIMEOUT);

        assertThat(guard.claim(first.getSha256(), "img-other"))
                .isEqualTo(new DuplicateGuard.Claim(first.getImageId(), false, false, takenAt, true));
    }

    @Test
    void anInstanceThatDiedWithItsClaimPendingIsLookedUpAndTakenOver() {
        ImageReceived first = send(null); // learn the content's hash and id form
        redis.keys(prefix + "*").forEach(redis::del);
        Instant claimedAt = clock.instant();
        guard.claim(first.getSha256(), "img-of-a-dead-instance"); // never sent, never confirmed
        clock.advance(IngestService.UNSETTLED_FOR.minusSeconds(1));
        assertRetryLater("being stored right now");
        atDecision(claimedAt);

        ImageReceived retry = send(null);

        assertThat(retry.getImageId()).isEqualTo("img-of-a-dead-instance");
        assertThat(asked).hasSize(1);
    }

    @Test
    void whileTheTopicCannotBeReadTheRetryIsToldToComeBackUntilLookupsHaveFailedForTenMinutes() {
        ImageReceived first = send(DELIVERY_TIMEOUT);
        topicUnreadable = new TimeoutException("broker away");
        clock.advance(Duration.ofMinutes(20)); // the first retry comes late: the give-up counts from the first failure

        assertRetryLater("cannot be checked yet");
        clock.advance(IngestService.LOOKUP_GIVE_UP.minusMillis(1));
        assertRetryLater("cannot be checked yet");
        assertThat(images()).hasSize(1);
        clock.advance(Duration.ofMillis(1));

        ImageReceived retry = send(null);

        assertThat(retry.getImageId()).isEqualTo(first.getImageId());
        assertThat(asked).hasSize(3);
    }

    @Test
    void whenOtherLookupsHoldEveryPermitTheCopyIsToldToRetryAndIsNotPublishedUnchecked() throws Exception {
        List<byte[]> files = List.of(png, ImageAdmissionTest.image("png", 210, 160, BufferedImage.TYPE_BYTE_GRAY),
                ImageAdmissionTest.image("png", 220, 160, BufferedImage.TYPE_BYTE_GRAY));
        for (byte[] file : files) {
            CompletableFuture<ImageReceived> f = service.submitAsync(META, "image/png", file);
            producer.errorNext(DELIVERY_TIMEOUT);
            assertThat(f).isCompletedExceptionally();
        }
        clock.advance(IngestService.UNSETTLED_FOR.plus(IngestService.LOOKUP_GIVE_UP).plusMinutes(1));
        java.util.concurrent.CountDownLatch inLookup = new java.util.concurrent.CountDownLatch(2);
        java.util.concurrent.CountDownLatch finish = new java.util.concurrent.CountDownLatch(1);
        service.close();
        service = new IngestService(Settings.of(Map.of(CommonKeys.HTTP_HOST, "127.0.0.1", CommonKeys.HTTP_PORT, "0",
                ApiTokens.TOKENS, "timed-out-token-0123456789=*", Pseudonymiser.KEY_SETTING,
                "timed-out-key-0123456789")), clock);
        service.startHttp(producer, guard, (imageId, from, to) -> {
            inLookup.countDown();
            try {
                finish.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        });
        java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            for (int i = 1; i < 3; i++) {
                byte[] file = files.get(i);
                two.submit(() -> service.submitAsync(META, "image/png", file));
            }
            assertThat(inLookup.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            int before = images().size();

            assertRetryLater("other checks are running");
            assertThat(images()).as("not published unchecked").hasSize(before);
        } finally {
            finish.countDown();
            two.shutdown();
            assertThat(two.awaitTermination(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aCopyWhileTheFirstIsStillBeingSentWaitsAndIsNotLookedUp() {
        CompletableFuture<ImageReceived> first = service.submitAsync(META, "image/png", png);
        clock.advance(IngestService.SEND_SPAN);

        assertRetryLater("being stored right now");
        assertThat(asked).isEmpty();
        producer.completeNext();
        assertThat(first).isCompleted();
    }

    @Test
    void aSendTheBrokerRefusedIsReleasedAndTheRetryIsANewImage() {
        ImageReceived first = send(new RecordTooLargeException("refused"));

        ImageReceived retry = send(null);

        assertThat(retry.getImageId()).isNotEqualTo(first.getImageId());
        assertThat(asked).as("nothing to look for").isEmpty();
    }

    /** Over HTTP: the 503 of an unacknowledged upload names its image, so the sender can tell its own 409 later. */
    @Test
    void theAnswerToAnUnacknowledgedUploadNamesItsImage() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpRequest post = java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + service.httpPort() + "/images?patientId=MRN-1&studyId=study-1&siteId=site-a&viewPosition=PA"))
                .header("Authorization", "Bearer timed-out-token-0123456789").header("Content-Type", "image/png")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(png)).build();
        CompletableFuture<java.net.http.HttpResponse<String>> answer =
                http.sendAsync(post, java.net.http.HttpResponse.BodyHandlers.ofString());
        while (images().isEmpty() && !answer.isDone()) {
            Thread.sleep(10);
        }
        assertThat(answer).as("not answered before the broker").isNotDone();
        producer.errorNext(DELIVERY_TIMEOUT);

        java.net.http.HttpResponse<String> r = answer.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("\"error\":\"BROKER_UNAVAILABLE\"")
                .contains("\"imageId\":\"" + images().get(0).getImageId() + "\"");
    }
}
