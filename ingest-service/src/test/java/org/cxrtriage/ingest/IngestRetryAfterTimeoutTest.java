package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
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
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * A send that timed out may still have reached the broker, so the sender's retry of the same file goes under the same
 * image id: at worst the same image twice, which later stages treat as one, never two images of the patient. Against
 * a real Redis ($REDIS_URL, default 127.0.0.1:6379); the broker is a MockProducer that fails or acknowledges on cue.
 */
@org.junit.jupiter.api.Timeout(value = 60, unit = java.util.concurrent.TimeUnit.SECONDS)
class IngestRetryAfterTimeoutTest {

    @Test
    void theRetryOfATimedOutUploadKeepsItsImageIdAndLaterCopiesAreDuplicates() throws Exception {
        Settings settings = Settings.of(Map.of(CommonKeys.HTTP_HOST, "127.0.0.1", CommonKeys.HTTP_PORT, "0",
                IngestService.DEDUP, "false", ApiTokens.TOKENS, "retry-test-token-0123456789=*",
                Pseudonymiser.KEY_SETTING, "retry-test-key-0123456789"));
        MockProducer<String, SpecificRecord> producer =
                new MockProducer<>(false, null, new StringSerializer(), (topic, value) -> new byte[0]);
        String prefix = "cxr:unit-" + UUID.randomUUID() + ":";
        IngestService service = new IngestService(settings);
        try (RedisClient redis = RedisClient.create(URI.create(System.getenv().getOrDefault(CommonKeys.REDIS_URL,
                CommonKeys.DEFAULT_REDIS_URL)))) {
            service.startHttp(producer, new DuplicateGuard(redis, prefix, Duration.ofMinutes(5),
                    Duration.ofMinutes(1)));
            byte[] png = ImageAdmissionTest.image("png", 200, 160, BufferedImage.TYPE_BYTE_GRAY);
            IngestMetadata meta = new IngestMetadata("MRN-1", "study-1", "site-a", null, "PA", null);

            CompletableFuture<ImageReceived> first = service.submitAsync(meta, "image/png", png);
            String firstId = producer.history().get(0).key();
            assertThat(producer.errorNext(new TimeoutException("Expiring 1 record(s): delivery timeout"))).isTrue();
            assertThat(first).isCompletedExceptionally();

            CompletableFuture<ImageReceived> retry = service.submitAsync(meta, "image/png", png);
            assertThat(producer.completeNext()).isTrue();
            assertThat(retry.get().getImageId()).isEqualTo(firstId);
            assertThat(producer.history()).extracting(r -> r.key()).containsExactly(firstId, firstId);

            assertThatThrownBy(() -> service.submit(meta, "image/png", png)).isInstanceOf(DuplicateImage.class)
                    .hasMessageContaining(firstId);
            assertThat(producer.history()).filteredOn(r -> r.topic().equals(Topic.IMAGES.name())).hasSize(2);
            redis.keys(prefix + "*").forEach(redis::del);
        } finally {
            service.close();
        }
    }
}
