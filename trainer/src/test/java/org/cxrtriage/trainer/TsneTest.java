package org.cxrtriage.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TsneTest {
    /** Two Gaussian clusters of {@code perCluster} points in {@code d} dimensions, centres {@code gap} apart. */
    private static double[][] twoClusters(int perCluster, int d, double gap, long seed) {
        Random r = new Random(seed);
        double[][] x = new double[2 * perCluster][d];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < d; j++) {
                x[i][j] = r.nextGaussian() + (i >= perCluster && j == 0 ? gap : 0);
            }
        }
        return x;
    }

    @Test
    void outputShapeAndDeterminism() {
        double[][] x = twoClusters(15, 8, 10, 1);
        Tsne tsne = new Tsne(2, 10, 300, 0, 7);
        double[][] a = tsne.fit(x);
        double[][] b = new Tsne(2, 10, 300, 0, 7).fit(x);
        assertThat(a).hasNumberOfRows(30);
        for (double[] row : a) {
            assertThat(row).hasSize(2);
            assertThat(Double.isFinite(row[0]) && Double.isFinite(row[1])).isTrue();
        }
        assertThat(a).isDeepEqualTo(b);
        double[][] c = new Tsne(2, 10, 300, 0, 8).fit(x);
        assertThat(c).isNotEqualTo(a);
        assertThat(new Tsne(3, 5, 50, 0, 1).fit(x)[0]).hasSize(3);
        assertThat(Tsne.defaults(1).fit(new double[0][])).isEmpty();
        assertThat(Tsne.defaults(1).fit(new double[][] {{1, 2}})).hasNumberOfRows(1);
    }

    @Test
    void wellSeparatedClustersStaySeparated() {
        int per = 25;
        double[][] x = twoClusters(per, 10, 12, 3);
        double[][] y = new Tsne(2, 10, 500, 0, 42).fit(x);
        // every point's nearest neighbour in the map is from its own cluster
        for (int i = 0; i < y.length; i++) {
            int nearest = -1;
            double best = Double.POSITIVE_INFINITY;
            for (int j = 0; j < y.length; j++) {
                double d = dist(y[i], y[j]);
                if (j != i && d < best) {
                    best = d;
                    nearest = j;
                }
            }
            assertThat(nearest < per).as("neighbour of %d", i).isEqualTo(i < per);
        }
        // the closest cross-cluster pair is farther apart than the mean within-cluster distance
        double minCross = Double.POSITIVE_INFINITY;
        double within = 0;
        int pairs = 0;
        for (int i = 0; i < y.length; i++) {
            for (int j = i + 1; j < y.length; j++) {
                double d = dist(y[i], y[j]);
                if ((i < per) != (j < per)) {
                    minCross = Math.min(minCross, d);
                } else {
                    within += d;
                    pairs++;
                }
            }
        }
        assertThat(minCross).isGreaterThan(within / pairs);
    }

    @Test
    void affinitiesAreSymmetricAndSumToOne() {
        double[][] x = twoClusters(10, 4, 5, 2);
        double[][] p = Tsne.affinities(Tsne.squaredDistances(x), 5);
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            for (int j = 0; j < p.length; j++) {
                assertThat(p[i][j]).isEqualTo(p[j][i]);
                if (i != j) {
                    sum += p[i][j];
                }
            }
        }
        assertThat(sum).isBetween(0.999, 1.001);
    }

    private static double dist(double[] a, double[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) {
            s += (a[k] - b[k]) * (a[k] - b[k]);
        }
        return Math.sqrt(s);
    }
}
