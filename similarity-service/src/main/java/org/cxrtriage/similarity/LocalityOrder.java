package org.cxrtriage.similarity;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.lucene.util.VectorUtil;

/**
 * An insertion order that puts similar embeddings next to each other, so that building an HNSW graph touches
 * vectors that are still in the CPU caches: a rebuild's cost is mostly cache misses on random vectors.
 *
 * <p>Each embedding gets the sign bits of its projections on {@link #BITS} fixed random directions through the
 * centroid (random-hyperplane hashing); sorting by that code groups embeddings that lie on the same side of the
 * hyperplanes, i.e. near each other. Bits, prefix and the batch size were chosen with {@code bin/bench-index.sh} at
 * 100k and 1M cases (README): 20 bits and no prefix built fastest but lost up to 0.006 of recall@4.
 */
public final class LocalityOrder {
    static final int BITS = 12;
    /**
     * Share of the cases kept first, in arrival order (which has nothing to do with where they lie). A graph built in
     * strict locality order links each region mostly within itself and loses recall; a scattered tenth inserted first
     * gives it long-range links to start from.
     */
    static final double ARRIVAL_PREFIX = 0.1;

    private LocalityOrder() {
    }

    /** Indices 0..n-1 of {@code cases}: the first {@link #ARRIVAL_PREFIX} as they are, then the rest by code. */
    public static int[] of(List<CaseRecord> cases) {
        int n = cases.size();
        if (n == 0) {
            return new int[0];
        }
        int dim = cases.get(0).embedding().length;
        float[] centroid = new float[dim];
        int step = Math.max(1, n / 10_000); // a sample is enough for the centroid
        int sampled = 0;
        for (int i = 0; i < n; i += step) {
            float[] v = cases.get(i).embedding();
            for (int d = 0; d < dim; d++) {
                centroid[d] += v[d];
            }
            sampled++;
        }
        for (int d = 0; d < dim; d++) {
            centroid[d] /= sampled;
        }
        Random rnd = new Random(42);
        float[][] planes = new float[BITS][dim];
        float[] offsets = new float[BITS];
        for (int b = 0; b < BITS; b++) {
            for (int d = 0; d < dim; d++) {
                planes[b][d] = (float) rnd.nextGaussian();
            }
            offsets[b] = VectorUtil.dotProduct(planes[b], centroid);
        }
        long[] keyed = new long[n];
        int prefix = (int) (n * ARRIVAL_PREFIX);
        for (int i = 0; i < prefix; i++) {
            keyed[i] = i; // code 0 and below every other: the first cases keep their arrival order, ahead of the rest
        }
        for (int i = prefix; i < n; i++) {
            float[] v = cases.get(i).embedding();
            long code = 0;
            for (int b = 0; b < BITS; b++) {
                code = (code << 1) | (VectorUtil.dotProduct(planes[b], v) >= offsets[b] ? 1 : 0);
            }
            keyed[i] = ((code + 1) << 32) | i;
        }
        Arrays.parallelSort(keyed);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = (int) keyed[i];
        }
        return order;
    }
}
