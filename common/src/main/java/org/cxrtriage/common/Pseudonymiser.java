package org.cxrtriage.common;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns a raw patient identifier into a stable pseudonymous reference with a keyed HMAC-SHA256, so topics, logs,
 * metrics and Redis keys never see the identifier while the same patient still maps to the same reference.
 * Without the key the mapping cannot be reversed or recomputed by a dictionary attack.
 */
public final class Pseudonymiser {

    public static final String KEY_SETTING = "PSEUDONYM_KEY";

    private final SecretKeySpec key;

    public Pseudonymiser(String secret) {
        if (secret == null || secret.length() < 16) {
            throw new IllegalArgumentException("pseudonymisation key must be at least 16 characters");
        }
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    }

    /**
     * The key is required: a default would be a key published with the source, and patient ids have few enough
     * values that anyone reading a topic could then reverse every reference by trying them all. (The launcher's local
     * run makes a fresh key per run.)
     */
    public static Pseudonymiser fromSettings(Settings settings) {
        return new Pseudonymiser(settings.optional(KEY_SETTING).orElseThrow(() -> new IllegalStateException(
                KEY_SETTING + " is not set: patient ids are pseudonymised with it; set a secret of at least 16 "
                        + "characters, the same for every ingest instance")));
    }

    /** "p-" + first 16 bytes of HMAC-SHA256(namespace + ':' + id) in hex. */
    public String patientRef(String rawPatientId) {
        if (rawPatientId == null || rawPatientId.isBlank()) {
            throw new IllegalArgumentException("patient id is empty");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            byte[] digest = mac.doFinal(("patient:" + rawPatientId.trim()).getBytes(StandardCharsets.UTF_8));
            return "p-" + HexFormat.of().formatHex(digest, 0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
