package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.cxrtriage.common.CommonKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** Against a real Redis ($REDIS_URL, default 127.0.0.1:6379), in a key namespace of its own. */
class DuplicateGuardTest {

    private static final Duration GONE_AFTER = Duration.ofMinutes(3);

    private RedisClient redis;
    private String prefix;
    private final TestClock clock = new TestClock(Instant.ofEpochMilli(1_700_000_000_123L));

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

    /** One ingest instance; all share Redis and the test's clock. */
    private DuplicateGuard instance() {
        return new DuplicateGuard(redis, prefix, Duration.ofMinutes(30), GONE_AFTER, clock);
    }

    private static DuplicateGuard.Claim pending(String id) {
        return new DuplicateGuard.Claim(id, false, false);
    }

    private static DuplicateGuard.Claim stored(String id) {
        return new DuplicateGuard.Claim(id, false, true);
    }

    @Test
    void aStoredImageTurnsLaterCopiesAwayWithItsId() {
        DuplicateGuard one = instance();
        DuplicateGuard otherInstance = instance();

        DuplicateGuard.Claim mine = one.claim("abc", "img-1");
        assertThat(mine).isEqualTo(new DuplicateGuard.Claim("img-1", true, false, clock.instant(), false));
        // Not yet acknowledged by the broker: the copy must wait, not be told it is a duplicate.
        DuplicateGuard.Claim seen = otherInstance.claim("abc", "img-2");
        assertThat(seen.imageId()).isEqualTo("img-1");
        assertThat(seen.mine() || seen.stored() || seen.uncertain()).isFalse();
        one.confirm("abc", mine);
        assertThat(otherInstance.claim("abc", "img-2")).isEqualTo(stored("img-1"));
        assertThat(one.claim("def", "img-3").mine()).isTrue();
    }

    @Test
    void aClaimPendingLongerThanALiveHolderCouldBeIsUncertainAndOneRetryTakesItOverUnderItsId() {
        DuplicateGuard crashed = instance();
        DuplicateGuard other = instance();
        DuplicateGuard third = instance();
        Instant claimedAt = clock.instant();
        crashed.claim("abc", "img-1"); // never confirmed: the instance died, before or after the broker took it

        clock.advance(GONE_AFTER.minusMillis(1));
        assertThat(other.claim("abc", "img-2").uncertain()).as("its holder may still be sending").isFalse();
        clock.advance(Duration.ofMillis(1));
        DuplicateGuard.Claim seen = other.claim("abc", "img-2");
        assertThat(seen).isEqualTo(new DuplicateGuard.Claim("img-1", false, false, claimedAt, true));

        DuplicateGuard.Claim taken = other.takeOver("abc", seen);
        assertThat(taken).isEqualTo(new DuplicateGuard.Claim("img-1", true, false, clock.instant(), false));
        assertThat(third.takeOver("abc", seen)).as("already taken over").isNull();
        assertThat(third.claim("abc", "img-3").uncertain()).as("pending again, from now").isFalse();
        other.confirm("abc", taken);
        assertThat(third.claim("abc", "img-3")).isEqualTo(stored("img-1"));
    }

    @Test
    void aTimedOutSendIsUncertainAtOnceAndEndsStoredWhenTheTopicHasIt() {
        DuplicateGuard one = instance();
        DuplicateGuard other = instance();
        Instant claimedAt = clock.instant();
        DuplicateGuard.Claim mine = one.claim("abc", "img-1");
        clock.advance(Duration.ofSeconds(30));
        one.markUncertain("abc", mine);

        DuplicateGuard.Claim seen = other.claim("abc", "img-2");
        assertThat(seen).as("with the time of the claim, the record's timestamp")
                .isEqualTo(new DuplicateGuard.Claim("img-1", false, false, claimedAt, true));
        other.confirmFound("abc", seen);
        assertThat(instance().claim("abc", "img-3")).isEqualTo(stored("img-1"));
        one.confirm("abc", mine); // a late acknowledgement of the first send changes nothing
        assertThat(instance().claim("abc", "img-3")).isEqualTo(stored("img-1"));
    }

    @Test
    void aReleasedClaimCanBeMadeAgainButOnlyItsOwnerReleasesIt() {
        DuplicateGuard one = instance();
        Instant firstClaim = clock.instant();
        clock.advance(Duration.ofSeconds(1));
        DuplicateGuard.Claim mine = one.claim("abc", "img-1");
        one.release("abc", new DuplicateGuard.Claim("img-2", true, false, clock.instant(), false));
        // The same id from an earlier claim: a holder whose claim was taken over under its id.
        one.release("abc", new DuplicateGuard.Claim("img-1", true, false, firstClaim, false));
        one.confirm("abc", new DuplicateGuard.Claim("img-1", true, false, firstClaim, false));
        assertThat(one.claim("abc", "img-3").imageId()).isEqualTo("img-1");
        assertThat(one.claim("abc", "img-3").stored()).isFalse();
        one.release("abc", mine);
        assertThat(one.claim("abc", "img-3").mine()).isTrue();
    }

    /**
     * Values an older ingest wrote are read as it meant them, and every value this one writes for an image that is
     * not stored ends in "|P", which an older ingest reads as "in progress" (503, retry), never as a stored image's id.
     */
    @Test
    void valuesOfOlderVersionsAreUnderstoodAndOurUnstoredOnesLookPendingToThem() {
        redis.set(prefix + "image-sha:old-pending", "img-1|P");
        redis.set(prefix + "image-sha:old-stored", "img-2|S");
        redis.set(prefix + "image-sha:first-version", "img-3");
        assertThat(instance().claim("old-pending", "x")).isEqualTo(pending("img-1"));
        assertThat(instance().claim("old-stored", "x")).isEqualTo(stored("img-2"));
        assertThat(instance().claim("first-version", "x")).isEqualTo(stored("img-3"));
        redis.set(prefix + "image-sha:unreadable", "img-5|12a|P");
        redis.set(prefix + "image-sha:future", "img-6|1700000000123|X|P");
        assertThat(instance().claim("unreadable", "x")).as("in progress, never a stored id").isEqualTo(pending("img-5"));
        assertThat(instance().claim("future", "x")).isEqualTo(pending("img-6"));

        DuplicateGuard.Claim mine = instance().claim("new", "img-4");
        assertThat(redis.get(prefix + "image-sha:new")).endsWith("|P");
        instance().markUncertain("new", mine);
        assertThat(redis.get(prefix + "image-sha:new")).endsWith("|P");
    }

    @Test
    void lookupFailuresCountFromTheFirstUntilCleared() {
        DuplicateGuard one = instance();
        Instant first = clock.instant();
        assertThat(one.lookupsFailingSince("abc")).isEqualTo(first);
        clock.advance(Duration.ofMinutes(4));
        assertThat(instance().lookupsFailingSince("abc")).as("another instance sees the first failure").isEqualTo(first);
        one.clearLookupFailures("abc");
        assertThat(one.lookupsFailingSince("abc")).isEqualTo(clock.instant());
    }
}
