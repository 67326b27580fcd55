package org.cxrtriage.ingest;

import java.time.Duration;
import java.util.List;
import redis.clients.jedis.UnifiedJedis;

/**
 * Remembers the SHA-256 of every accepted image for a window, so the same file sent twice (a retried upload, a
 * re-sent study) is scored once. Redis makes the claim atomic across ingest instances.
 *
 * <p>Within the window one content has one image id, whatever happens to its uploads. A claim is <em>pending</em>
 * until the broker has acknowledged the image, then <em>stored</em>; only a stored claim turns a copy away as a
 * duplicate. A pending claim is held for {@code pendingTtl} (longer than the producer's delivery timeout); after
 * that, or at once when its upload failed ({@link #abandon}), a copy takes it over <em>with the same image id</em>.
 * A failed or timed-out send may still have reached the broker (Kafka cannot always tell), and an instance may die
 * after the broker stored its image but before confirming: if the first upload did land, the retry's record is then
 * the same image again under the same id, which every later stage treats as one (it replays the same image), not
 * a second image of the patient.
 */
public final class DuplicateGuard {

    /** Who holds the content: {@code mine} when this call holds it now; {@code stored} once its image is stored. */
    public record Claim(String imageId, boolean mine, boolean stored) {
    }

    /**
     * Value "id|S" (stored) or "id|P|heldUntilMillis" (pending). Times come from the Redis server's clock, one clock
     * for every instance. Returns {id, state}: state "mine", "pending" or "stored".
     */
    private static final String CLAIM = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local v = redis.call('GET', KEYS[1])
            local id = ARGV[1]
            if v then
              local sep = string.find(v, '|', 1, true)
              if not sep then return {v, 'stored'} end
              id = string.sub(v, 1, sep - 1)
              local state = string.sub(v, sep + 1, sep + 1)
              if state == 'S' then return {id, 'stored'} end
              local held = tonumber(string.sub(v, sep + 3)) or now + 1
              if held > now then return {id, 'pending'} end
            end
            redis.call('SET', KEYS[1], id .. '|P|' .. (now + tonumber(ARGV[2])), 'PX', ARGV[3])
            return {id, 'mine'}
            """;
    /** Marks a pending claim of this id stored (whoever holds it now: it is the same image). */
    private static final String CONFIRM = """
            local v = redis.call('GET', KEYS[1])
            if v and string.sub(v, 1, string.len(ARGV[1]) + 2) == ARGV[1] .. '|P' then
              return redis.call('SET', KEYS[1], ARGV[1] .. '|S', 'PX', ARGV[2])
            end
            return nil
            """;
    /** Lets the next copy take a pending claim of this id over at once; the id stays. */
    private static final String ABANDON = """
            local v = redis.call('GET', KEYS[1])
            if v and string.sub(v, 1, string.len(ARGV[1]) + 2) == ARGV[1] .. '|P' then
              return redis.call('SET', KEYS[1], ARGV[1] .. '|P|0', 'KEEPTTL')
            end
            return nil
            """;

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

    /**
     * Claims the content for {@code imageId}, or tells who holds it. A claim that is {@code mine} may name another
     * id than the one asked for: the id of an earlier upload of the same content whose outcome is unknown.
     */
    public Claim claim(String sha256, String imageId) {
        List<?> r = (List<?>) redis.eval(CLAIM, List.of(key(sha256)),
                List.of(imageId, Long.toString(pendingTtl.toMillis()), Long.toString(window.toMillis())));
        String id = (String) r.get(0);
        String state = (String) r.get(1);
        return new Claim(id, state.equals("mine"), state.equals("stored"));
    }

    /** Marks the content stored (the broker acknowledged {@code imageId}): copies are duplicates from now on. */
    public void confirm(String sha256, String imageId) {
        redis.eval(CONFIRM, List.of(key(sha256)), List.of(imageId, Long.toString(window.toMillis())));
    }

    /**
     * Gives up holding the content, when its upload failed or timed out: the next copy may go at once, under the
     * same id, in case this one reached the broker after all.
     */
    public void abandon(String sha256, String imageId) {
        redis.eval(ABANDON, List.of(key(sha256)), List.of(imageId));
    }
}
