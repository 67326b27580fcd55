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
 */
public final class DuplicateGuard {

    /** Who holds the content: {@code mine} when this call claimed it; {@code stored} once its image is stored. */
    public record Claim(String imageId, boolean mine, boolean stored) {
    }

    private static final String PENDING = "|P";
    private static final String STORED = "|S";
    /** Promotes a pending claim to stored only if it is still ours (it may have expired and been re-claimed). */
    private static final String CONFIRM = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
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
        String id = holder.endsWith(STORED) ? holder.substring(0, holder.length() - STORED.length()) : holder;
        return new Claim(id, false, true);
    }

    /** Marks the content stored (the broker acknowledged {@code imageId}): copies are duplicates from now on. */
    public void confirm(String sha256, String imageId) {
        redis.eval(CONFIRM, List.of(key(sha256)),
                List.of(imageId + PENDING, imageId + STORED, Long.toString(window.toMillis())));
    }

    /** Gives the content up again, e.g. when the event could not be published. */
    public void release(String sha256, String imageId) {
        String holder = redis.get(key(sha256));
        if (holder != null && holder.startsWith(imageId + "|")) {
            redis.del(key(sha256));
        }
    }
}
