package org.cxrtriage.trainer;

import java.util.Random;

/**
 * Exact t-SNE (van der Maaten &amp; Hinton 2008) for small point sets (O(n²) memory and time per iteration; meant
 * for ≤ ~1,000 points, e.g. the embeddings of one evaluation split). Plain Java, no dependencies.
 *
 * <p>Per-point Gaussian bandwidths by binary search on the perplexity, symmetrised affinities, Student-t (1 dof)
 * low-dimensional kernel, gradient descent with momentum (0.5 → 0.8 after 250 iterations), per-parameter gains and
 * early exaggeration (×12 for the first 250 iterations), as in the reference implementation. Deterministic for a
 * given seed (initialisation N(0, 1e-4²)).
 */
public final class Tsne {
    private final int dims;
    private final double perplexity;
    private final int iterations;
    private final double learningRate;
    private final long seed;

    /**
     * @param dims output dimensions (usually 2)
     * @param perplexity effective number of neighbours (clamped to (n - 1) / 3 for small inputs)
     * @param iterations gradient steps (≥ 300 recommended; 1,000 is the usual)
     * @param learningRate step size; ≤ 0 selects max(n / 12, 50) (the "auto" rule)
     */
    public Tsne(int dims, double perplexity, int iterations, double learningRate, long seed) {
        if (dims < 1 || perplexity <= 0 || iterations < 1) {
            throw new IllegalArgumentException("dims >= 1, perplexity > 0 and iterations >= 1 required");
        }
        this.dims = dims;
        this.perplexity = perplexity;
        this.iterations = iterations;
        this.learningRate = learningRate;
        this.seed = seed;
    }

    /** 2-D, perplexity 30, 1,000 iterations, auto learning rate. */
    public static Tsne defaults(long seed) {
        return new Tsne(2, 30, 1000, 0, seed);
    }

    /** Embeds the rows of {@code x} (n × d, all rows the same length); returns n × dims. */
    public double[][] fit(double[][] x) {
        int n = x.length;
        double[][] y = new double[n][dims];
        if (n == 0) {
            return y;
        }
        if (n == 1) {
            return y;
        }
        double[][] p = affinities(squaredDistances(x), Math.min(perplexity, Math.max(1.0, (n - 1) / 3.0)));
        double eta = learningRate > 0 ? learningRate : Math.max(n / 12.0, 50);
        Random random = new Random(seed);
        for (double[] row : y) {
            for (int d = 0; d < dims; d++) {
                row[d] = random.nextGaussian() * 1e-4;
            }
        }
        double[][] update = new double[n][dims];
        double[][] gains = new double[n][dims];
        for (double[] g : gains) {
            java.util.Arrays.fill(g, 1.0);
        }
        double[][] num = new double[n][n];
        double[][] grad = new double[n][dims];
        int exaggerationIters = Math.min(250, iterations / 4);
        for (int it = 0; it < iterations; it++) {
            double exaggeration = it < exaggerationIters ? 12.0 : 1.0;
            double momentum = it < exaggerationIters ? 0.5 : 0.8;
            double sumNum = 0;
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    double d2 = 0;
                    for (int d = 0; d < dims; d++) {
                        double diff = y[i][d] - y[j][d];
                        d2 += diff * diff;
                    }
                    double q = 1.0 / (1.0 + d2);
                    num[i][j] = q;
                    num[j][i] = q;
                    sumNum += 2 * q;
                }
            }
            for (int i = 0; i < n; i++) {
                java.util.Arrays.fill(grad[i], 0);
                for (int j = 0; j < n; j++) {
                    if (i == j) {
                        continue;
                    }
                    double q = Math.max(num[i][j] / sumNum, 1e-12);
                    double mult = (exaggeration * p[i][j] - q) * num[i][j];
                    for (int d = 0; d < dims; d++) {
                        grad[i][d] += 4 * mult * (y[i][d] - y[j][d]);
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                for (int d = 0; d < dims; d++) {
                    boolean sameSign = (grad[i][d] > 0) == (update[i][d] > 0);
                    gains[i][d] = Math.max(0.01, sameSign ? gains[i][d] * 0.8 : gains[i][d] + 0.2);
                    update[i][d] = momentum * update[i][d] - eta * gains[i][d] * grad[i][d];
                    y[i][d] += update[i][d];
                }
            }
            for (int d = 0; d < dims; d++) {
                double mean = 0;
                for (double[] row : y) {
                    mean += row[d];
                }
                mean /= n;
                for (double[] row : y) {
                    row[d] -= mean;
                }
            }
        }
        return y;
    }

    static double[][] squaredDistances(double[][] x) {
        int n = x.length;
        double[][] d = new double[n][n];
        for (int i = 0; i < n; i++) {
            if (x[i].length != x[0].length) {
                throw new IllegalArgumentException("rows differ in length");
            }
            for (int j = i + 1; j < n; j++) {
                double s = 0;
                for (int k = 0; k < x[i].length; k++) {
                    double diff = x[i][k] - x[j][k];
                    s += diff * diff;
                }
                d[i][j] = s;
                d[j][i] = s;
            }
        }
        return d;
    }

    /** Symmetrised joint probabilities P = (P_j|i + P_i|j) / 2n with per-row bandwidths matching the perplexity. */
    static double[][] affinities(double[][] d2, double perplexity) {
        int n = d2.length;
        double target = Math.log(perplexity);
        double[][] cond = new double[n][n];
        double[] row = new double[n];
        for (int i = 0; i < n; i++) {
            double beta = 1;
            double lo = Double.NEGATIVE_INFINITY;
            double hi = Double.POSITIVE_INFINITY;
            // scale-free start: 1 / (mean squared distance of the row)
            double mean = 0;
            for (int j = 0; j < n; j++) {
                mean += d2[i][j];
            }
            mean /= Math.max(1, n - 1);
            if (mean > 0) {
                beta = 1 / mean;
            }
            for (int step = 0; step < 100; step++) {
                double min = Double.POSITIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    if (j != i) {
                        min = Math.min(min, d2[i][j]);
                    }
                }
                double sum = 0;
                double weighted = 0;
                for (int j = 0; j < n; j++) {
                    row[j] = j == i ? 0 : Math.exp(-(d2[i][j] - min) * beta); // shifted for stability
                    sum += row[j];
                    weighted += row[j] * (d2[i][j] - min);
                }
                double entropy = Math.log(sum) + beta * weighted / sum;
                for (int j = 0; j < n; j++) {
                    cond[i][j] = row[j] / sum;
                }
                double diff = entropy - target;
                if (Math.abs(diff) < 1e-5) {
                    break;
                }
                if (diff > 0) { // too flat: narrower kernel
                    lo = beta;
                    beta = Double.isInfinite(hi) ? beta * 2 : (beta + hi) / 2;
                } else {
                    hi = beta;
                    beta = Double.isInfinite(lo) ? beta / 2 : (beta + lo) / 2;
                }
            }
        }
        double[][] p = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                p[i][j] = Math.max((cond[i][j] + cond[j][i]) / (2.0 * n), 1e-12);
            }
        }
        return p;
    }
}
