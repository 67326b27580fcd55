package org.cxrtriage.dashboard;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import redis.clients.jedis.UnifiedJedis;

/**
 * The pictures of every image the pipeline preprocessed, kept in Redis for a while so an alert's image and its
 * similar (older) cases can be shown: one hash per image with its site and the two PNGs, expiring on its own.
 */
public final class ImageStore {

    public enum Plane {
        CXR, LUNG;

        byte[] field() {
            return name().toLowerCase().getBytes(StandardCharsets.UTF_8);
        }
    }

    private static final byte[] SITE = "site".getBytes(StandardCharsets.UTF_8);

    private final UnifiedJedis redis;
    private final String prefix;

    public ImageStore(UnifiedJedis redis, String prefix) {
        this.redis = redis;
        this.prefix = prefix;
    }

    private byte[] key(String imageId) {
        return (prefix + "dashboard:image:" + imageId).getBytes(StandardCharsets.UTF_8);
    }

    /** Stores (or replaces) an image's pictures; they expire after {@code ttlSeconds}. */
    public void save(String imageId, String siteId, byte[] cxrPng, byte[] lungPng, long ttlSeconds) {
        byte[] key = key(imageId);
        try (var p = redis.pipelined()) {
            p.hset(key, Map.of(SITE, siteId.getBytes(StandardCharsets.UTF_8), Plane.CXR.field(), cxrPng,
                    Plane.LUNG.field(), lungPng));
            p.expire(key, ttlSeconds);
        }
    }

    public Optional<byte[]> png(String imageId, Plane plane) {
        return Optional.ofNullable(redis.hget(key(imageId), plane.field()));
    }

    public Optional<String> siteOf(String imageId) {
        return Optional.ofNullable(redis.hget(key(imageId), SITE)).map(b -> new String(b, StandardCharsets.UTF_8));
    }
}
