package org.cxrtriage.similarity;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Squared Euclidean distance with the JDK's Vector API (AVX2/AVX-512/NEON lanes). Lucene 9.12 uses the Vector API
 * only on Java 21 and 22, so on our Java 17 runtime its distances are scalar; graph building is almost all distance
 * computations. Only touched when the {@code jdk.incubator.vector} module is present (see {@link Distances}).
 */
final class SimdSquareDistance {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private SimdSquareDistance() {
    }

    static float squareDistance(float[] a, float[] b) {
        int lanes = SPECIES.length();
        int bound = SPECIES.loopBound(a.length);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        FloatVector acc2 = FloatVector.zero(SPECIES);
        int i = 0;
        // Two accumulators: consecutive FMAs do not wait on each other.
        for (; i + 2 * lanes <= bound; i += 2 * lanes) {
            FloatVector d1 = FloatVector.fromArray(SPECIES, a, i).sub(FloatVector.fromArray(SPECIES, b, i));
            acc1 = d1.fma(d1, acc1);
            FloatVector d2 = FloatVector.fromArray(SPECIES, a, i + lanes)
                    .sub(FloatVector.fromArray(SPECIES, b, i + lanes));
            acc2 = d2.fma(d2, acc2);
        }
        for (; i < bound; i += lanes) {
            FloatVector d = FloatVector.fromArray(SPECIES, a, i).sub(FloatVector.fromArray(SPECIES, b, i));
            acc1 = d.fma(d, acc1);
        }
        float sum = acc1.add(acc2).reduceLanes(VectorOperators.ADD);
        for (; i < a.length; i++) {
            float d = a[i] - b[i];
            sum += d * d;
        }
        return sum;
    }
}
