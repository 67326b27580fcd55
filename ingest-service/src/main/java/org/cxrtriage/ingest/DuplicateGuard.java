package org.cxrtriage.ingest;

import java.time.Duration;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.SetParams;

/**
 * Remembers the SHA-256 of every accepted image for a window, so the same file sent twice (a retried upload, a
 * re-sent study) is scored once. Redis makes the claim atomic across ingest instances.
 */
public final class DuplicateGuard {

    private final UnifiedJedis redis;
    private final String prefix;
    private final Duration window;

    public DuplicateGuard(UnifiedJedis redis, String prefix, Duration window) {
        this.redis = redis;
        this.prefix = prefix;
        this.window = window;
    }

    /**
     * Claims the content for {@code imageId}; returns the image id that holds it: {@code imageId} itself when this is
     * the first time, else the first image's id.
     */
    public String claim(String sha256, String imageId) {
        String key = prefix + "image-sha:" + sha256;
        String ok = redis.set(key, imageId, SetParams.setParams().nx().px(window.toMillis()));
        if ("OK".equals(ok)) {
            return imageId;
        }
        String first = redis.get(key);
        return first != null ? first : claim(sha256, imageId);
    }

    /** Gives the content up again, e.g. when the event could not be published. */
    public void release(String sha256, String imageId) {
        String key = prefix + "image-sha:" + sha256;
        if (imageId.equals(redis.get(key))) {
            redis.del(key);
        }
    }
}
