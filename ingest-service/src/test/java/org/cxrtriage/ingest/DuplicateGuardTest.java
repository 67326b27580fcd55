package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.UUID;
import org.cxrtriage.common.CommonKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** Against a real Redis ($REDIS_URL, default 127.0.0.1:6379), in a key namespace of its own. */
class DuplicateGuardTest {

    private RedisClient redis;
    private String prefix;

    @BeforeEach
    void connect() {
        redis = RedisClient.create(URI.create(System.getenv().getOrDefault(CommonKeys.REDIS_URL,
                CommonKeys.DEFAULT_REDIS_URL)));
        prefix = "cxr:unit-" + UUID.randomUUID() + ":";
    }

    @AfterEach
    void cleanUp() {
        redis.keys(prefix + "*").forEach(redis::del);
        redis.close();
    }

    @Test
    void theFirstImageKeepsTheContentAndLaterCopiesAreToldItsId() {
        DuplicateGuard one = new DuplicateGuard(redis, prefix, Duration.ofMinutes(5));
        DuplicateGuard otherInstance = new DuplicateGuard(redis, prefix, Duration.ofMinutes(5));

        assertThat(one.claim("abc", "img-1")).isEqualTo("img-1");
        assertThat(otherInstance.claim("abc", "img-2")).isEqualTo("img-1");
        assertThat(one.claim("def", "img-3")).isEqualTo("img-3");
    }

    @Test
    void releasedContentCanBeClaimedAgainButOnlyByItsOwnerRelease() {
        DuplicateGuard guard = new DuplicateGuard(redis, prefix, Duration.ofMinutes(5));
        guard.claim("abc", "img-1");
        guard.release("abc", "img-2");
        assertThat(guard.claim("abc", "img-3")).isEqualTo("img-1");
        guard.release("abc", "img-1");
        assertThat(guard.claim("abc", "img-3")).isEqualTo("img-3");
    }
}
