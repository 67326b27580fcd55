package org.cxrtriage.ingest;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.SetParams;

/**
 * Remembers the SHA-256 of every accepted image for a window, so the same file sent twice (a retried upload, a
 * re-sent study) is scored once. Redis makes the claim atomic across ingest instances.
 *
 * <p>A claim is <em>pending</em> (with the time it was made, which is also its image's record timestamp) until the
 * broker has acknowledged the image, then <em>stored</em>. Only a stored claim turns a copy away as a duplicate; a
 * copy that comes while the claim is pending is asked to retry shortly.
 *
 * <p>A claim is <em>uncertain</em> when its image may or may not be stored: its send timed out (the broker may have
 * written it without the acknowledgement reaching us), or it has been pending longer than {@code presumedGoneAfter},
 * which a live holder never is (its producer gives up sooner), so its instance died before or after the broker took
 * the image. The next copy then looks in the topic ({@link StoredImages}): there, the copy is a duplicate; not there
 * (and late enough that it cannot still appear), the copy takes the claim over and is published under the same image
 * id. Never stored under a second id, never lost.
 *
 * <p>Values: {@code <id>|<millis>|P} pending, {@code <id>|<millis>|U|P} uncertain, {@code <id>|S} stored. Every value
 * that is not stored ends in {@code |P}, so an older ingest (which knew only {@code <id>|P} and {@code <id>|S})
 * answers "in progress" during a rolling upgrade instead of taking the value for a stored image's id.
 */
public final class DuplicateGuard {

    /**
     * Who holds the content. {@code mine}: this call claimed it. {@code stored}: its image is stored. {@code
     * claimedAt}: when the claim was made, for a pending or uncertain claim (null for stored ones and those of older
     * versions). {@code uncertain}: its image may or may not be stored.
     */
    public record Claim(String imageId, boolean mine, boolean stored, Instant claimedAt, boolean uncertain) {
        /** A stored claim, or a pending one of an older version. */
        public Claim(String imageId, boolean mine, boolean stored) {
            this(imageId, mine, stored, null, false);
        }
    }

    /**
     * ARGV: expected value, another expected value, new value ("" deletes), TTL ms. Compare-and-set: the claim may
     * have changed meanwhile.
     */
    private static final String REPLACE = "local v = redis.call('GET', KEYS[1]) "
            + "if v ~= ARGV[1] and v ~= ARGV[2] then return nil end "
            + "if ARGV[3] == '' then return redis.call('DEL', KEYS[1]) end "
            + "return redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])";

    private final UnifiedJedis redis;
    private final String prefix;
    private final Duration window;
    private final Duration presumedGoneAfter;
    private final Clock clock;
    private final RetractableImages images;

    /**
     * @param window            how long a stored image's content is remembered
     * @param presumedGoneAfter how long a claim may be pending before its holder is presumed dead
     */
    public DuplicateGuard(UnifiedJedis redis, String prefix, Duration window, Duration presumedGoneAfter) {
        this(redis, prefix, window, presumedGoneAfter, Clock.systemUTC());
    }

    DuplicateGuard(UnifiedJedis redis, String prefix, Duration window, Duration presumedGoneAfter, Clock clock) {
        this.redis = redis;
        this.prefix = prefix;
        this.window = window;
        this.presumedGoneAfter = presumedGoneAfter;
        this.clock = clock;
        this.images = new RetractableImages(redis, prefix, window);
    }

    /** The images this guard's Redis remembers for retraction, for as long as it remembers their content. */
    public RetractableImages images() {
        return images;
    }

    private String key(String sha256) {
        return prefix + "image-sha:" + sha256;
    }

    /** Claims the content for {@code imageId}, or tells who holds it. */
    public Claim claim(String sha256, String imageId) {
        Instant now = Instant.ofEpochMilli(clock.millis());
        String ok = redis.set(key(sha256), pending(imageId, now), SetParams.setParams().nx().px(window.toMillis()));
        if ("OK".equals(ok)) {
            return new Claim(imageId, true, false, now, false);
        }
        String holder = redis.get(key(sha256));
        if (holder == null) {
            return claim(sha256, imageId); // expired between the two calls
        }
        return parse(holder, now);
    }

    private Claim parse(String holder, Instant now) {
        String[] parts = holder.split("\\|", -1);
        String id = parts[0];
        try {
            if (parts.length == 3 && parts[2].equals("P")) {
                Instant claimedAt = Instant.ofEpochMilli(Long.parseLong(parts[1]));
                return new Claim(id, false, false, claimedAt, !now.isBefore(claimedAt.plus(presumedGoneAfter)));
            }
            if (parts.length == 4 && parts[2].equals("U") && parts[3].equals("P")) {
                return new Claim(id, false, false, Instant.ofEpochMilli(Long.parseLong(parts[1])), true);
            }
        } catch (NumberFormatException e) {
            // Not ours to interpret (below).
        }
        if (holder.endsWith("|P")) {
            // An older version's pending claim (it expires by itself), or a value this version cannot read: in
            // progress, so the sender retries; never a stored image's id.
            return new Claim(id, false, false);
        }
        return new Claim(id, false, true); // "<id>|S", or a bare id from the first version
    }

    /**
     * Since when lookups in the topic for this content's uncertain claim have been failing: the time of the first
     * failure, noted now if this is it.
     */
    public Instant lookupsFailingSince(String sha256) {
        String k = prefix + "image-sha-lookup-failed:" + sha256;
        String now = Long.toString(clock.millis());
        redis.set(k, now, SetParams.setParams().nx().px(window.toMillis()));
        String first = redis.get(k);
        try {
            return Instant.ofEpochMilli(Long.parseLong(first == null ? now : first));
        } catch (NumberFormatException e) {
            return Instant.ofEpochMilli(clock.millis());
        }
    }

    /** The content's uncertain claim was decided: failures of earlier lookups no longer count. */
    public void clearLookupFailures(String sha256) {
        redis.del(prefix + "image-sha-lookup-failed:" + sha256);
    }

    /** Marks the content stored (the broker acknowledged the claim's image): copies are duplicates from now on. */
    public void confirm(String sha256, Claim mine) {
        String pending = pending(mine.imageId(), mine.claimedAt());
        replace(sha256, pending, pending, mine.imageId() + "|S");
    }

    /** The send of the claim's image timed out or failed in a way that leaves it unknown whether it was written. */
    public void markUncertain(String sha256, Claim mine) {
        String pending = pending(mine.imageId(), mine.claimedAt());
        replace(sha256, pending, pending, uncertainValue(mine.imageId(), mine.claimedAt()));
    }

    /** Gives the claim up: its image was certainly not stored, so a retry of the same file is a new image. */
    public void release(String sha256, Claim mine) {
        String pending = pending(mine.imageId(), mine.claimedAt());
        replace(sha256, pending, pending, "");
    }

    /** The topic holds the image of an {@link Claim#uncertain() uncertain} claim: it becomes stored. */
    public void confirmFound(String sha256, Claim uncertain) {
        replaceUncertain(sha256, uncertain, uncertain.imageId() + "|S");
    }

    /**
     * The topic does not hold the image of an {@link Claim#uncertain() uncertain} claim: the caller takes it over,
     * pending from now under the same image id. Returns the caller's claim, or null when another caller changed the
     * claim first.
     */
    public Claim takeOver(String sha256, Claim uncertain) {
        Instant now = Instant.ofEpochMilli(clock.millis());
        boolean mine = replaceUncertain(sha256, uncertain, pending(uncertain.imageId(), now));
        return mine ? new Claim(uncertain.imageId(), true, false, now, false) : null;
    }

    /** Deletes the claim when it names the image, whatever its state ({@code ARGV[1]} = the image id). */
    private static final String FORGET = "local v = redis.call('GET', KEYS[1]) "
            + "if v and (v == ARGV[1] or string.sub(v, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|') then "
            + "return redis.call('DEL', KEYS[1]) end return 0";

    /**
     * The image was retracted by its site: its content is free again, so the same X-ray sent anew (under the right
     * patient) is a new image, not a duplicate of the withdrawn one. A claim another image holds is left alone.
     */
    public void forget(String sha256, String imageId) {
        redis.eval(FORGET, List.of(key(sha256)), List.of(imageId));
    }

    private static String pending(String imageId, Instant claimedAt) {
        return imageId + "|" + claimedAt.toEpochMilli() + "|P";
    }

    private static String uncertainValue(String imageId, Instant claimedAt) {
        return imageId + "|" + claimedAt.toEpochMilli() + "|U|P";
    }

    /** An uncertain claim is one of two values: marked so (a timed-out send), or pending too long (a dead holder). */
    private boolean replaceUncertain(String sha256, Claim uncertain, String value) {
        return replace(sha256, uncertainValue(uncertain.imageId(), uncertain.claimedAt()),
                pending(uncertain.imageId(), uncertain.claimedAt()), value);
    }

    private boolean replace(String sha256, String expected, String alsoExpected, String value) {
        return redis.eval(REPLACE, List.of(key(sha256)), List.of(expected, alsoExpected, value,
                Long.toString(window.toMillis()))) != null;
    }
}
