package org.cxrtriage.ingest;

import java.time.Duration;
import java.util.Optional;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.SetParams;

/**
 * What ingest remembers of each image it took, so that the image's site can withdraw it later (DELETE
 * /images/{imageId}): its site, its pseudonymised patient and the hash of its bytes, for as long as copies of it are
 * refused as duplicates. Keys hold only image ids.
 */
public final class RetractableImages {

    /** An image ingest took: whose it is, and whether it was retracted. */
    public record Known(String siteId, String patientRef, String sha256, boolean retracted) {
    }

    private final UnifiedJedis redis;
    private final String prefix;
    private final Duration window;

    public RetractableImages(UnifiedJedis redis, String prefix, Duration window) {
        this.redis = redis;
        this.prefix = prefix;
        this.window = window;
    }

    private String key(String imageId) {
        return prefix + "ingested:" + imageId;
    }

    /** Remembers an image about to be published. */
    public void remember(String imageId, String siteId, String patientRef, String sha256) {
        redis.set(key(imageId), value(new Known(siteId, patientRef, sha256, false)),
                SetParams.setParams().px(window.toMillis()));
    }

    /** The site goes last: it is the only part that may contain '|' (a pseudonym and a hex digest cannot). */
    private static String value(Known k) {
        return k.patientRef() + "|" + k.sha256() + "|" + (k.retracted() ? "R" : "-") + "|" + k.siteId();
    }

    /** The image, when ingest took it within the window. */
    public Optional<Known> find(String imageId) {
        String v = redis.get(key(imageId));
        if (v == null) {
            return Optional.empty();
        }
        String[] parts = v.split("\\|", 4);
        if (parts.length < 4) {
            throw new IllegalStateException("unreadable record of image " + imageId);
        }
        return Optional.of(new Known(parts[3], parts[0], parts[1], parts[2].equals("R")));
    }

    /** Records that the image's retraction was published, so that asking again does not publish it twice. */
    public void markRetracted(String imageId, Known known) {
        redis.set(key(imageId), value(new Known(known.siteId(), known.patientRef(), known.sha256(), true)),
                SetParams.setParams().px(window.toMillis()));
    }
}
