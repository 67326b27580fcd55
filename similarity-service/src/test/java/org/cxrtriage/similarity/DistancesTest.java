package org.cxrtriage.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.junit.jupiter.api.Test;

class DistancesTest {

    @Test
    void theTestsRunWithTheVectorApiSoTheVectorisedPathIsTheOneChecked() {
        // similarity-service's surefire argLine adds jdk.incubator.vector, as the launch scripts do.
        assertThat(Distances.vectorised()).isTrue();
    }

    @Test
    void vectorisedSquaredDistanceMatchesTheDefinitionForEveryLengthAndRemainder() {
        Random rnd = new Random(3);
        for (int n : new int[] {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 127, 128, 129, 1000}) {
            float[] a = new float[n];
            float[] b = new float[n];
            double expected = 0;
            for (int i = 0; i < n; i++) {
                a[i] = (float) rnd.nextGaussian();
                b[i] = (float) rnd.nextGaussian();
                double d = (double) a[i] - b[i];
                expected += d * d;
            }
            assertThat((double) Distances.squareDistance(a, b)).as("length %d", n)
                    .isCloseTo(expected, within(1e-4 * (1 + expected)));
        }
        assertThat(Distances.squareDistance(new float[] {1, 2, 3}, new float[] {4, 6, 3})).isEqualTo(25f);
    }

    @Test
    void vectorsOfDifferentLengthAreRefused() {
        assertThatThrownBy(() -> Distances.squareDistance(new float[4], new float[5]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4 != 5");
    }

    @Test
    void theCaseVectorFormatIsFoundByNameSoSnapshotsReopenWithIt() {
        assertThat(KnnVectorsFormat.forName(CaseVectorsFormat.NAME)).isInstanceOf(CaseVectorsFormat.class);
    }
}
