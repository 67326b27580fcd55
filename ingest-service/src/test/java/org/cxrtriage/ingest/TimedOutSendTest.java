package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
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
 * {@code StoredImagesTest} in the launcher, against the real broker).
 */
@org.junit.jupiter.api.Timeout(value = 60, unit = java.util.concurrent.TimeUnit.SECONDS)
class TimedOutSendTest {

    private static final IngestMetadata META = new IngestMetadata("MRN-1", "study-1", "site-a", null, "PA", null);

    private RedisClient redis;
    private String prefix;
    private MockProducer<String, SpecificRecord> producer;
    private IngestService service;
    private DuplicateGuard guard;
    /** The image ids "in the topic", and what the service asked. */
    private final List<String> inTopic = new ArrayList<>();
    private final List<Instant> askedSince = new ArrayList<>();
    private RuntimeException topicUnreadable;
    private byte[] png;

    @BeforeEach
    void start() throws Exception {
        redis = RedisClient.create(URI.create(System.getenv().getOrDefault(CommonKeys.REDIS_URL,
                CommonKeys.DEFAULT_REDIS_URL)));
        prefix = "cxr:unit-" + UUID.randomUUID() + ":";
        guard = new DuplicateGuard(redis, prefix, Duration.ofMinutes(5), Duration.ofMinutes(1));
        producer = new MockProducer<>(false, null, new StringSerializer(), (topic, value) -> new byte[0]);
        service = new IngestService(Settings.of(Map.of(CommonKeys.HTTP_HOST, "127.0.0.1", CommonKeys.HTTP_PORT, "0",
                ApiTokens.TOKENS, "timed-out-token-0123456789=*", Pseudonymiser.KEY_SETTING,
                "timed-out-key-0123456789")));
        service.startHttp(producer, guard, (imageId, since) -> {
            askedSince.add(since);
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
        return (ImageReceived) producer.history().get(producer.history().size() - 1).value();
    }

    private List<ImageReceived> images() {
        return producer.history().stream().filter(r -> r.topic().equals(Topic.IMAGES.name()))
                .map(r -> (ImageReceived) r.value()).toList();
    }

    private static int status(Throwable t) {
        return ((IngestRejection) t).httpStatus();
    }

    @Test
    void aRetryAfterATimeoutThatWasStoredAnywayIsTheFirstImageNotASecondCase() {
        Instant before = Instant.now();
        ImageReceived first = send(new TimeoutException("Expiring 1 record(s): 30000 ms has passed"));
        inTopic.add(first.getImageId()); // the broker had written it

        assertThatThrownBy(() -> service.submitAsync(META, "image/png", png))
                .isInstanceOfSatisfying(DuplicateImage.class,
                        d -> assertThat(d.firstImageId()).isEqualTo(first.getImageId()));
        assertThat(images()).as("nothing published again").hasSize(1);
        assertThat(askedSince).singleElement().satisfies(since -> assertThat(since)
                .isBefore(before).isAfter(before.minusMillis(3L * IngestService.DELIVERY_TIMEOUT_MS)));
        // From now on a plain stored duplicate: the topic is not asked again.
        assertThatThrownBy(() -> service.submitAsync(META, "image/png", png)).isInstanceOf(DuplicateImage.class);
        assertThat(askedSince).hasSize(1);
    }

    @Test
    void aRetryAfterATimeoutThatWasNotStoredIsPublishedUnderTheSameId() {
        ImageReceived first = send(new TimeoutException("Expiring 1 record(s): 30000 ms has passed"));

        ImageReceived retry = send(null);

        assertThat(retry.getImageId()).as("same id: a late write of the first cannot make a second case")
                .isEqualTo(first.getImageId());
        assertThat(images()).extracting(ImageReceived::getImageId).containsExactly(first.getImageId(),
                first.getImageId());
        assertThat(guard.claim(first.getSha256(), "img-other"))
                .isEqualTo(new DuplicateGuard.Claim(first.getImageId(), false, true));
    }

    @Test
    void whileTheTopicCannotBeReadTheRetryIsToldToComeBackAndTheQuestionStaysOpen() {
        ImageReceived first = send(new TimeoutException("Expiring 1 record(s): 30000 ms has passed"));
        topicUnreadable = new org.apache.kafka.common.errors.TimeoutException("broker away");

        assertThatThrownBy(() -> service.submitAsync(META, "image/png", png))
                .satisfies(t -> assertThat(status(t)).isEqualTo(503)).hasMessageContaining("retry later");
        assertThat(images()).hasSize(1);

        topicUnreadable = null; // the broker is back, and had written it
        inTopic.add(first.getImageId());
        assertThatThrownBy(() -> service.submitAsync(META, "image/png", png)).isInstanceOf(DuplicateImage.class);
    }

    @Test
    void aSendTheBrokerRefusedIsReleasedAndTheRetryIsANewImage() {
        ImageReceived first = send(new RecordTooLargeException("refused"));

        ImageReceived retry = send(null);

        assertThat(retry.getImageId()).isNotEqualTo(first.getImageId());
        assertThat(askedSince).as("nothing to look for").isEmpty();
    }
}
