package org.cxrtriage.similarity;

import org.apache.lucene.util.VectorUtil;

/**
 * Squared Euclidean distance, vectorised when the JVM was started with {@code --add-modules jdk.incubator.vector}
 * (every launch script and image of this project does), Lucene's scalar loop otherwise.
 */
public final class Distances {

    private static final boolean SIMD = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !Boolean.getBoolean("cxr.noSimd");

    // Lucene warns at start that the module is present but Java 17 is too old for its own use of it: expected here
    // (our scorer is what uses it). Held strongly: java.util.logging keeps loggers by weak reference.
    private static final java.util.logging.Logger LUCENE_VECTORISATION_LOG = java.util.logging.Logger.getLogger(
            "org.apache.lucene.internal.vectorization.VectorizationProvider");

    static {
        if (SIMD && Runtime.version().feature() < 21) {
            LUCENE_VECTORISATION_LOG.setLevel(java.util.logging.Level.SEVERE);
        }
    }

    private Distances() {
    }

    /** Whether distances use the Vector API (shown on start and in the index benchmark). */
    public static boolean vectorised() {
        return SIMD;
    }

    public static float squareDistance(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("vector dimensions differ: " + a.length + " != " + b.length);
        }
        return SIMD ? SimdSquareDistance.squareDistance(a, b) : VectorUtil.squareDistance(a, b);
    }
}
