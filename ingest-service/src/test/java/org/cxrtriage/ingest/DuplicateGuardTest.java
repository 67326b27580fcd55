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

    private DuplicateGuard guard(Duration pendingTtl) {
        return new DuplicateGuard(redis, prefix, Duration.ofMinutes(5), pendingTtl);
    }

    @Test
    void aStoredImageTurnsLaterCopiesAwayWithItsId() {
        DuplicateGuard one = guard(Duration.ofMinutes(1));
        DuplicateGuard otherInstance = guard(Duration.ofMinutes(1));

        assertThat(one.claim("abc", "img-1")).isEqualTo(new DuplicateGuard.Claim("img-1", true, false));
        // Not yet acknowledged by the broker: the copy must wait, not be told it is a duplicate.
        assertThat(otherInstance.claim("abc", "img-2")).isEqualTo(new DuplicateGuard.Claim("img-1", false, false));
        one.confirm("abc", "img-1");
        assertThat(otherInstance.claim("abc", "img-2")).isEqualTo(new DuplicateGuard.Claim("img-1", false, true));
        assertThat(one.claim("def", "img-3").mine()).isTrue();
    }

    @Test
    void aPendingClaimOfACrashedInstanceExpiresSoTheRetryIsAccepted() throws InterruptedException {
        DuplicateGuard crashed = guard(Duration.ofMillis(300));
        crashed.claim("abc", "img-1"); // never confirmed: the instance died before the broker acknowledged
        Thread.sleep(400);
        DuplicateGuard.Claim retry = guard(Duration.ofMillis(300)).claim("abc", "img-2");
        assertThat(retry.mine()).isTrue();
        // The dead instance's confirm (had it lived) cannot take the content back.
        crashed.confirm("abc", "img-1");
        assertThat(guard(Duration.ofMinutes(1)).claim("abc", "img-3").imageId()).isEqualTo("img-2");
    }

    @Test
    void releasedContentCanBeClaimedAgainButOnlyByItsOwnerRelease() {
        DuplicateGuard guard = guard(Duration.ofMinutes(1));
        guard.claim("abc", "img-1");
        guard.release("abc", "img-2");
        assertThat(guard.claim("abc", "img-3").imageId()).isEqualTo("img-1");
        guard.release("abc", "img-1");
        assertThat(guard.claim("abc", "img-3").mine()).isTrue();
    }

    @Test
    void aTimedOutSendLeavesAnUncertainClaimThatOnlyOneRetryCanTakeOver() {
        DuplicateGuard one = guard(Duration.ofMinutes(1));
        DuplicateGuard otherInstance = guard(Duration.ofMinutes(1));
        java.time.Instant timedOut = java.time.Instant.ofEpochMilli(1_700_000_000_123L);
        one.claim("abc", "img-1");
        one.markUncertain("abc", "img-1", timedOut);

        DuplicateGuard.Claim seen = otherInstance.claim("abc", "img-2");
        assertThat(seen).isEqualTo(new DuplicateGuard.Claim("img-1", false, false, timedOut));
        assertThat(otherInstance.takeOver("abc", seen)).isTrue();
        assertThat(one.takeOver("abc", seen)).as("already taken over").isFalse();
        assertThat(one.claim("abc", "img-3")).as("pending again, under the first id")
                .isEqualTo(new DuplicateGuard.Claim("img-1", false, false));

        one.claim("def", "img-4");
        one.markUncertain("def", "img-4", timedOut);
        one.confirmFound("def", otherInstance.claim("def", "img-5"));
        assertThat(otherInstance.claim("def", "img-6")).isEqualTo(new DuplicateGuard.Claim("img-4", false, true));
    }
}
