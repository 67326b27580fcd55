package org.cxrtriage.imaging;

import java.util.Objects;

/**
 * A per-pixel lung probability plane, aligned with the CXR plane it was computed from.
 *
 * @param probability      {@code size × size} uint8 samples, row-major, {@code round(p × 255)}
 * @param lungAreaFraction fraction of pixels with {@code p ≥ 0.5} (sample ≥ 128); plausible frontal CXRs
 *                         give roughly 0.1–0.5, values near 0 suggest no lungs were found
 */
public record LungMap(byte[] probability, double lungAreaFraction) {
    public LungMap {
        Objects.requireNonNull(probability, "probability");
        if (lungAreaFraction < 0 || lungAreaFraction > 1) {
            throw new IllegalArgumentException("lungAreaFraction out of [0, 1]: " + lungAreaFraction);
        }
    }

    /** The fraction of samples at or above 128 (p ≥ 0.5). */
    public static double areaFraction(byte[] probability) {
        long count = 0;
        for (byte b : probability) {
            if ((b & 0xFF) >= 128) {
                count++;
            }
        }
        return probability.length == 0 ? 0.0 : count / (double) probability.length;
    }
}
