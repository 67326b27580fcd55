package org.cxrtriage.similarity;

import java.io.IOException;
import org.apache.lucene.codecs.hnsw.DefaultFlatVectorScorer;
import org.apache.lucene.codecs.hnsw.FlatVectorsScorer;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.util.hnsw.RandomAccessVectorValues;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;

/**
 * Lucene's float-vector scoring with {@link Distances} for Euclidean similarity (the case index's); scores are
 * Lucene's own, {@code 1 / (1 + squared distance)}. Other similarities go to Lucene's default scorer.
 */
final class SimdFlatVectorsScorer implements FlatVectorsScorer {

    static final SimdFlatVectorsScorer INSTANCE = new SimdFlatVectorsScorer();

    private static float score(float squareDistance) {
        return 1 / (1 + squareDistance);
    }

    @Override
    public RandomVectorScorerSupplier getRandomVectorScorerSupplier(VectorSimilarityFunction similarity,
            RandomAccessVectorValues values) throws IOException {
        if (similarity == VectorSimilarityFunction.EUCLIDEAN && values instanceof RandomAccessVectorValues.Floats f) {
            return new Supplier(f);
        }
        return DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorerSupplier(similarity, values);
    }

    @Override
    public RandomVectorScorer getRandomVectorScorer(VectorSimilarityFunction similarity,
            RandomAccessVectorValues values, float[] target) throws IOException {
        if (similarity == VectorSimilarityFunction.EUCLIDEAN && values instanceof RandomAccessVectorValues.Floats f) {
            if (target.length != f.dimension()) {
                throw new IllegalArgumentException("vector query dimension: " + target.length
                        + " differs from field dimension: " + f.dimension());
            }
            return new RandomVectorScorer.AbstractRandomVectorScorer(f) {
                @Override
                public float score(int node) throws IOException {
                    return SimdFlatVectorsScorer.score(Distances.squareDistance(target, f.vectorValue(node)));
                }
            };
        }
        return DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorer(similarity, values, target);
    }

    @Override
    public RandomVectorScorer getRandomVectorScorer(VectorSimilarityFunction similarity,
            RandomAccessVectorValues values, byte[] target) throws IOException {
        return DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorer(similarity, values, target);
    }

    @Override
    public String toString() {
        return "SimdFlatVectorsScorer(vectorised=" + Distances.vectorised() + ")";
    }

    /** Scores graph nodes against one another while the graph is built or merged. */
    private static final class Supplier implements RandomVectorScorerSupplier {
        // Lucene's vector values reuse one buffer per instance: one copy holds the node scored from, one the others.
        private final RandomAccessVectorValues.Floats from;
        private final RandomAccessVectorValues.Floats to;
        private final RandomAccessVectorValues.Floats original;

        Supplier(RandomAccessVectorValues.Floats values) throws IOException {
            this.original = values;
            this.from = values.copy();
            this.to = values.copy();
        }

        @Override
        public RandomVectorScorer scorer(int ord) throws IOException {
            float[] query = from.vectorValue(ord);
            return new RandomVectorScorer.AbstractRandomVectorScorer(to) {
                @Override
                public float score(int node) throws IOException {
                    return SimdFlatVectorsScorer.score(Distances.squareDistance(query, to.vectorValue(node)));
                }
            };
        }

        @Override
        public RandomVectorScorerSupplier copy() throws IOException {
            return new Supplier(original);
        }
    }
}
