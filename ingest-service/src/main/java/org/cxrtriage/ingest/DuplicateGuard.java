package org.cxrtriage.ingest;

import java.time.Duration;
import java.util.List;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.SetParams;

/**
 * Remembers the SHA-256 of every accepted image for a window, so the same file sent twice (a retried upload, a
 * re-sent study) is scored once. Redis makes the claim atomic across ingest instances.
 *
 * <p>A claim is <em>pending</em> until the broker has acknowledged the image, then <em>stored</em>. Only a stored
 * claim turns a copy away as a duplicate: if the instance holding a pending claim dies before storing the image, the
 * claim expires after {@code pendingTtl} and the sender's retry is accepted, so a crash never makes an image look
 * stored when it is not.
 *
 * <p>A send that timed out leaves its claim <em>uncertain</em>: the broker may have written the image without the
 * acknowledgement reaching us. The next copy must then look in the topic ({@link StoredImages}) before it is either
 * turned away (the image is there) or published under the same image id (it is not), never stored under a second id.
 */
public final class DuplicateGuard {

    /**
     * Who holds the content: {@code mine} when this call claimed it; {@code stored} once its image is stored;
     * {@code uncertainSince} when its send timed out at that time (else null).
     */
    public record Claim(String imageId, boolean mine, boolean stored, java.time.Instant uncertainSince) {
        public Claim(String imageId, boolean mine, boolean stored) {
            this(imageId, mine, stored, null);
        }
    }

    private static final String PENDING = "|P";
    private static final String STORED = "|S";
    /** Followed by the epoch milliseconds when the send timed out. */
    private static final String UNCERTAIN = "|U|";
    /** Replaces the claim only if it still holds what the caller saw (it may have expired and been re-claimed). */
    private static final String REPLACE = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
            + "return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return nil end";

    private final UnifiedJedis redis;
    private final String prefix;
    private final Duration window;
    private final Duration pendingTtl;

    public DuplicateGuard(UnifiedJedis redis, String prefix, Duration window, Duration pendingTtl) {
        this.redis = redis;
        this.prefix = prefix;
        this.window = window;
        this.pendingTtl = pendingTtl;
    }

    private String key(String sha256) {
        return prefix + "image-sha:" + sha256;
    }

    /** Claims the content for {@code imageId}, or tells who holds it. */
    public Claim claim(String sha256, String imageId) {
        String ok = redis.set(key(sha256), imageId + PENDING, SetParams.setParams().nx().px(pendingTtl.toMillis()));
        if ("OK".equals(ok)) {
            return new Claim(imageId, true, false);
        }
        String holder = redis.get(key(sha256));
        if (holder == null) {
            return claim(sha256, imageId); // expired between the two calls
        }
        if (holder.endsWith(PENDING)) {
            return new Claim(holder.substring(0, holder.length() - PENDING.length()), false, false);
        }
        int uncertain = holder.indexOf(UNCERTAIN);
        if (uncertain > 0) {
            return new Claim(holder.substring(0, uncertain), false, false, java.time.Instant.ofEpochMilli(
                    Long.parseLong(holder.substring(uncertain + UNCERTAIN.length()))));
        }
        String id = holder.endsWith(STORED) ? holder.substring(0, holder.length() - STORED.length()) : holder;
        return new Claim(id, false, true);
    }

    /** Marks the content stored (the broker acknowledged {@code imageId}): copies are duplicates from now on. */
    public void confirm(String sha256, String imageId) {
        replace(sha256, imageId + PENDING, imageId + STORED, window);
    }

    /**
     * The send of {@code imageId} timed out at {@code when}: the image may be stored. Kept for the whole window, as a
     * stored claim would be, so that no later copy is taken without looking.
     */
    public void markUncertain(String sha256, String imageId, java.time.Instant when) {
        replace(sha256, imageId + PENDING, uncertainValue(imageId, when), window);
    }

    /** The topic holds the image of an {@code uncertain} claim: it becomes stored. */
    public void confirmFound(String sha256, Claim uncertain) {
        replace(sha256, uncertainValue(uncertain.imageId(), uncertain.uncertainSince()),
                uncertain.imageId() + STORED, window);
    }

    /**
     * The topic does not hold the image of an {@code uncertain} claim: the caller takes it over, pending again under
     * the same image id. False when another caller changed the claim first.
     */
    public boolean takeOver(String sha256, Claim uncertain) {
        return replace(sha256, uncertainValue(uncertain.imageId(), uncertain.uncertainSince()),
                uncertain.imageId() + PENDING, pendingTtl);
    }

    private static String uncertainValue(String imageId, java.time.Instant when) {
        return imageId + UNCERTAIN + when.toEpochMilli();
    }

    private boolean replace(String sha256, String expected, String value, Duration ttl) {
        return redis.eval(REPLACE, List.of(key(sha256)), List.of(expected, value, Long.toString(ttl.toMillis())))
                != null;
    }

    /** Gives the content up again, e.g. when the event could not be published. */
    public void release(String sha256, String imageId) {
        String holder = redis.get(key(sha256));
        if (holder != null && holder.startsWith(imageId + "|")) {
            redis.del(key(sha256));
        }
    }
}
