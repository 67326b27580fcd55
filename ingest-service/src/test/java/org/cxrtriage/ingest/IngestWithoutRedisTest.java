package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.ApiTokens;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.Pseudonymiser;
import org.cxrtriage.common.Settings;
import org.cxrtriage.schemas.ImageReceived;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** Redis holds only the duplicate check: while it is away, images are still taken and stored, not refused. */
@org.junit.jupiter.api.Timeout(value = 60, unit = java.util.concurrent.TimeUnit.SECONDS)
class IngestWithoutRedisTest {

    @Test
    void anImageIsStoredWhenTheDuplicateCheckCannotBeAsked() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Settings settings = Settings.of(Map.of(CommonKeys.HTTP_HOST, "127.0.0.1", CommonKeys.HTTP_PORT, "0",
                IngestService.DEDUP, "false", ApiTokens.TOKENS, "redis-down-token-0123456789=*",
                Pseudonymiser.KEY_SETTING, "redis-down-key-0123456789"));
        MockProducer<String, SpecificRecord> producer =
                new MockProducer<>(true, null, new StringSerializer(), (topic, value) -> new byte[0]);
        IngestService service = new IngestService(settings);
        try (RedisClient away = RedisClient.create(URI.create("redis://127.0.0.1:" + closedPort))) {
            service.startHttp(producer, new DuplicateGuard(away, "cxr:test:", Duration.ofMinutes(5),
                    Duration.ofMinutes(1)), null);
            byte[] png = ImageAdmissionTest.image("png", 200, 160, BufferedImage.TYPE_BYTE_GRAY);

            ImageReceived first = service.submit(new IngestMetadata("MRN-1", "study-1", "site-a", null, "PA", null),
                    "image/png", png);

            assertThat(first.getImageId()).isNotBlank();
            assertThat(producer.history()).extracting(r -> r.key()).containsExactly(first.getImageId());
        } finally {
            service.close();
        }
    }
}
