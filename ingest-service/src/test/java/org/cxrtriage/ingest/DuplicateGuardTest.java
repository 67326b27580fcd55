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
    void aPendingClaimOfACrashedInstanceIsTakenOverUnderItsIdOnceItsHoldEnds() throws InterruptedException {
        DuplicateGuard crashed = guard(Duration.ofMillis(300));
        crashed.claim("abc", "img-1"); // never confirmed: the instance died, perhaps after the broker stored it
        assertThat(guard(Duration.ofMillis(300)).claim("abc", "img-2"))
                .isEqualTo(new DuplicateGuard.Claim("img-1", false, false));
        Thread.sleep(400);
        // The retry goes, under the first upload's id: if that one landed, this is the same image again.
        DuplicateGuard.Claim retry = guard(Duration.ofMillis(300)).claim("abc", "img-2");
        assertThat(retry).isEqualTo(new DuplicateGuard.Claim("img-1", true, false));
        assertThat(guard(Duration.ofMinutes(1)).claim("abc", "img-3").mine()).as("held by the retry now").isFalse();
        // Whichever of the two is acknowledged stores the content.
        crashed.confirm("abc", "img-1");
        assertThat(guard(Duration.ofMinutes(1)).claim("abc", "img-3"))
                .isEqualTo(new DuplicateGuard.Claim("img-1", false, true));
    }

    @Test
    void anAbandonedClaimIsTakenOverAtOnceUnderTheSameIdAndOnlyItsOwnerCanAbandonIt() {
        DuplicateGuard guard = guard(Duration.ofMinutes(1));
        guard.claim("abc", "img-1");
        guard.abandon("abc", "img-2");
        assertThat(guard.claim("abc", "img-3")).isEqualTo(new DuplicateGuard.Claim("img-1", false, false));
        guard.abandon("abc", "img-1"); // its send failed or timed out
        assertThat(guard.claim("abc", "img-3")).isEqualTo(new DuplicateGuard.Claim("img-1", true, false));
        guard.confirm("abc", "img-1");
        guard.abandon("abc", "img-1"); // a late failure report does not undo a stored image
        assertThat(guard.claim("abc", "img-4")).isEqualTo(new DuplicateGuard.Claim("img-1", false, true));
        // The claim lasts the window, not only the hold.
        assertThat(redis.pttl(prefix + "image-sha:abc")).isGreaterThan(Duration.ofMinutes(4).toMillis());
    }

    @Test
    void claimsWrittenByTheEarlierFormatAreRead() {
        redis.set(prefix + "image-sha:old-pending", "img-1|P");
        redis.set(prefix + "image-sha:old-stored", "img-2|S");
        redis.set(prefix + "image-sha:oldest", "img-3");
        DuplicateGuard guard = guard(Duration.ofMinutes(1));
        assertThat(guard.claim("old-pending", "x")).isEqualTo(new DuplicateGuard.Claim("img-1", false, false));
        assertThat(guard.claim("old-stored", "x")).isEqualTo(new DuplicateGuard.Claim("img-2", false, true));
        assertThat(guard.claim("oldest", "x")).isEqualTo(new DuplicateGuard.Claim("img-3", false, true));
    }
}
