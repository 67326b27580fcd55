package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
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
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/**
 * Folder mode (the main job) keeps going through a broker that does not take a send: the file is sent again, and
 * reported only when it could not be stored at all. The broker is Kafka's {@code MockProducer}, answered by a thread
 * that plays a script; Redis is real ($REDIS_URL).
 */
@org.junit.jupiter.api.Timeout(value = 60, unit = java.util.concurrent.TimeUnit.SECONDS)
class FolderIngestTest {

    private static final RuntimeException DELIVERY_TIMEOUT = new TimeoutException("Expiring 1 record(s)");
    /** What the Avro serialiser throws when the schema registry does not answer. */
    private static final RuntimeException REGISTRY_DOWN = new org.apache.kafka.common.errors.SerializationException(
            "Error serializing Avro", new org.cxrtriage.schemas.RegistryUnavailableException("schema registry call "
                    + "failed", new java.util.concurrent.TimeoutException("registry request timed out")));

    @TempDir
    Path dir;

    private final TestClock clock = new TestClock(Instant.now().truncatedTo(ChronoUnit.MILLIS));
    private RedisClient redis;
    private String prefix;
    private MockProducer<String, SpecificRecord> producer;
    private IngestService service;
    /** What the broker does with each send, in order: null acknowledges, an exception fails it. */
    private final Deque<RuntimeException> script = new ArrayDeque<>();
    private final Set<String> inTopic = ConcurrentHashMap.newKeySet();
    /** How many of the next sends the serialiser fails, as with the registry away. */
    private final java.util.concurrent.atomic.AtomicInteger serializerFailures =
            new java.util.concurrent.atomic.AtomicInteger();
    /** When set, the broker fails every send with it. */
    private volatile RuntimeException alwaysFail;
    private Thread broker;

    @BeforeEach
    void start() {
        redis = RedisClient.create(URI.create(System.getenv().getOrDefault(CommonKeys.REDIS_URL,
                CommonKeys.DEFAULT_REDIS_URL)));
        prefix = "cxr:unit-" + UUID.randomUUID() + ":";
        producer = new MockProducer<>(false, null, new StringSerializer(), (topic, value) -> {
            if (serializerFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw REGISTRY_DOWN;
            }
            return new byte[0];
        }) {
            @Override
            public synchronized void flush() {
                // The mock's flush acknowledges every pending send; the scripted broker answers them instead.
            }
        };
        service = new IngestService(Settings.of(Map.of(CommonKeys.HTTP_HOST, "127.0.0.1", CommonKeys.HTTP_PORT, "0",
                ApiTokens.TOKENS, "folder-token-0123456789=*", Pseudonymiser.KEY_SETTING, "folder-key-0123456789")),
                clock);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (broker != null) {
            broker.interrupt();
            broker.join();
        }
        service.close();
        redis.keys(prefix + "*").forEach(redis::del);
        redis.close();
    }

    /**
     * Answers each send by the script. A failed send moves the clock past the time an unacknowledged image is
     * decided (the retry then looks it up at once) and, when {@code writtenAnyway}, puts it in the topic.
     */
    private void playBroker(boolean writtenAnyway) {
        broker = new Thread(() -> {
            int answered = 0;
            while (!Thread.currentThread().isInterrupted()) {
                if (producer.history().size() <= answered) {
                    java.util.concurrent.locks.LockSupport.parkNanos(200_000);
                    continue;
                }
                if (!(producer.history().get(answered).value() instanceof ImageReceived sent)) {
                    // A rejection event (a 409's audit record): stored. Answered in order, as the producer's are.
                    if (producer.completeNext()) {
                        answered++;
                    }
                    continue;
                }
                RuntimeException answer = alwaysFail != null ? alwaysFail : script.peek();
                boolean done = answer == null ? producer.completeNext() : producer.errorNext(answer);
                if (!done) {
                    continue; // in the history, not yet waiting for its answer
                }
                answered++;
                if (answer != null) {
                    script.poll(); // (nothing, when failing always)
                    if (writtenAnyway) {
                        inTopic.add(sent.getImageId());
                    }
                    clock.advance(IngestService.UNSETTLED_FOR);
                }
            }
        }, "scripted-broker");
        broker.start();
    }

    private List<FolderSource.Item> folder(int files) throws Exception {
        for (int i = 0; i < files; i++) {
            Files.write(dir.resolve("x" + i + ".png"),
                    ImageAdmissionTest.image("png", 200 + i, 160, BufferedImage.TYPE_BYTE_GRAY));
        }
        return FolderSource.list(dir, Optional.empty());
    }

    private List<ImageReceived> images() {
        return producer.history().stream().filter(r -> r.topic().equals(Topic.IMAGES.name()))
                .map(r -> (ImageReceived) r.value()).toList();
    }

    @Test
    void aSendTheBrokerDidNotAcknowledgeButStoredIsTheFileOwnImageNotARefusalNorASecondCase() throws Exception {
        service.startHttp(producer, new DuplicateGuard(redis, prefix, Duration.ofDays(1), IngestService.UNSETTLED_FOR,
                clock), (imageId, from, to) -> inTopic.contains(imageId));
        script.add(DELIVERY_TIMEOUT);
        playBroker(true);

        List<FolderIngest.Outcome> outcomes = new FolderIngest(service, Duration.ofMillis(20), Duration.ofSeconds(30))
                .send(folder(2), o -> { });

        assertThat(outcomes).allMatch(FolderIngest.Outcome::isAccepted);
        assertThat(images()).as("the first file's image published once").hasSize(2);
        assertThat(outcomes).extracting(o -> o.accepted().getImageId())
                .containsExactlyInAnyOrderElementsOf(images().stream().map(ImageReceived::getImageId).toList());
    }

    @Test
    void aSendTheBrokerDidNotStoreIsSentAgainUnderTheSameId() throws Exception {
        service.startHttp(producer, new DuplicateGuard(redis, prefix, Duration.ofDays(1), IngestService.UNSETTLED_FOR,
                clock), (imageId, from, to) -> inTopic.contains(imageId));
        script.add(DELIVERY_TIMEOUT);
        playBroker(false);

        List<FolderIngest.Outcome> outcomes = new FolderIngest(service, Duration.ofMillis(20), Duration.ofSeconds(30))
                .send(folder(1), o -> { });

        assertThat(outcomes).singleElement().satisfies(o -> assertThat(o.isAccepted()).isTrue());
        assertThat(images()).extracting(ImageReceived::getImageId).hasSize(2).containsOnly(
                outcomes.get(0).accepted().getImageId());
    }

    @Test
    void aFileTheBrokerNeverTakesIsReportedNotStoredAndTheOthersGoOn() throws Exception {
        service.startHttp(producer, null, null); // no duplicate check: every retry is a plain new send
        alwaysFail = DELIVERY_TIMEOUT;
        playBroker(false);
        List<FolderSource.Item> items = folder(1);

        List<FolderIngest.Outcome> outcomes = new FolderIngest(service, Duration.ofMillis(20), Duration.ofSeconds(2))
                .send(items, o -> { });

        assertThat(outcomes).singleElement().satisfies(o -> {
            assertThat(o.isAccepted()).isFalse();
            // Each send may have been stored all the same: said so, with the image id.
            assertThat(o.rejection().reasonCode()).isEqualTo("NOT_CONFIRMED");
            assertThat(o.rejection().getMessage()).contains("may or may not be stored").contains("Expiring 1 record(s)");
        });
        assertThat(images()).as("tried again and again").hasSizeGreaterThan(2);
    }

    @Test
    void aSendTheBrokerRefusesForGoodIsNotSentAgain() throws Exception {
        service.startHttp(producer, null, null);
        alwaysFail = new org.apache.kafka.common.errors.TopicAuthorizationException("not authorised");
        playBroker(false);

        List<FolderIngest.Outcome> outcomes = new FolderIngest(service, Duration.ofMillis(20), Duration.ofSeconds(30))
                .send(folder(1), o -> { });

        assertThat(outcomes).singleElement().satisfies(o -> {
            assertThat(o.rejection().reasonCode()).as("certainly not stored").isEqualTo("NOT_STORED");
            assertThat(o.rejection().getMessage()).contains("not authorised");
        });
        assertThat(images()).as("sent once").hasSize(1);
    }

    /** A schema registry that does not answer comes back: the file is sent again, not refused for good. */
    @Test
    void aFileTheRegistryCouldNotSerialiseForIsSentAgainOnceItAnswers() throws Exception {
        service.startHttp(producer, new DuplicateGuard(redis, prefix, Duration.ofDays(1), IngestService.UNSETTLED_FOR,
                clock), (imageId, from, to) -> false);
        serializerFailures.set(3);
        playBroker(false);

        List<FolderIngest.Outcome> outcomes = new FolderIngest(service, Duration.ofMillis(20), Duration.ofSeconds(30))
                .send(folder(1), o -> { });

        assertThat(outcomes).singleElement().satisfies(o -> assertThat(o.isAccepted()).isTrue());
        assertThat(images()).as("published once, when the registry answered").hasSize(1);
        assertThat(FolderIngest.refusedForGood(REGISTRY_DOWN)).isFalse();
        assertThat(FolderIngest.refusedForGood(new org.apache.kafka.common.errors.SerializationException("bad")))
                .isTrue();
    }
}
