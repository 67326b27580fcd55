package org.cxrtriage.trainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;

/** Binary classification metrics over scores (higher = more likely positive) and boolean labels. */
public final class Metrics {
    private Metrics() {}

    /** Confusion counts at a threshold: predicted positive iff score >= threshold. */
    public record Confusion(int tp, int fp, int tn, int fn) {
        public int total() {
            return tp + fp + tn + fn;
        }

        public double accuracy() {
            return ratio(tp + tn, total());
        }

        public double sensitivity() {
            return ratio(tp, tp + fn);
        }

        public double specificity() {
            return ratio(tn, tn + fp);
        }

        public double precision() {
            return ratio(tp, tp + fp);
        }
    }

    /** A point estimate with a percentile bootstrap 95% interval (NaN bounds when undefined). */
    public record Estimate(double value, double lower, double upper) {}

    public static Confusion confusion(double[] scores, boolean[] labels, double threshold) {
        check(scores, labels);
        int tp = 0;
        int fp = 0;
        int tn = 0;
        int fn = 0;
        for (int i = 0; i < scores.length; i++) {
            boolean predicted = scores[i] >= threshold;
            if (labels[i]) {
                if (predicted) {
                    tp++;
                } else {
                    fn++;
                }
            } else if (predicted) {
                fp++;
            } else {
                tn++;
            }
        }
        return new Confusion(tp, fp, tn, fn);
    }

    /**
     * ROC AUC = P(score of a random positive > score of a random negative) + 0.5 P(tie) (Mann-Whitney U with
     * mid-ranks). NaN if either class is absent.
     */
    public static double rocAuc(double[] scores, boolean[] labels) {
        check(scores, labels);
        int n = scores.length;
        Integer[] order = sortedIndices(scores, true);
        double[] ranks = new double[n];
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
                j++;
            }
            double mid = (i + j) / 2.0 + 1; // 1-based mid-rank
            for (int k = i; k <= j; k++) {
                ranks[order[k]] = mid;
            }
            i = j + 1;
        }
        long pos = 0;
        double rankSum = 0;
        for (int k = 0; k < n; k++) {
            if (labels[k]) {
                pos++;
                rankSum += ranks[k];
            }
        }
        long neg = n - pos;
        if (pos == 0 || neg == 0) {
            return Double.NaN;
        }
        return (rankSum - pos * (pos + 1) / 2.0) / ((double) pos * neg);
    }

    /**
     * PR AUC as average precision: sum over distinct thresholds (descending) of (R_k - R_{k-1}) * P_k, tied
     * scores taken as one threshold. NaN without positives.
     */
    public static double prAuc(double[] scores, boolean[] labels) {
        check(scores, labels);
        int n = scores.length;
        long totalPos = 0;
        for (boolean l : labels) {
            if (l) {
                totalPos++;
            }
        }
        if (totalPos == 0) {
            return Double.NaN;
        }
        Integer[] order = sortedIndices(scores, false);
        double ap = 0;
        int tp = 0;
        int seen = 0;
        double prevRecall = 0;
        int i = 0;
        while (i < n) {
            int j = i;
            while (j < n && scores[order[j]] == scores[order[i]]) {
                if (labels[order[j]]) {
                    tp++;
                }
                j++;
            }
            seen = j;
            double recall = tp / (double) totalPos;
            double precision = tp / (double) seen;
            ap += (recall - prevRecall) * precision;
            prevRecall = recall;
            i = j;
        }
        return ap;
    }

    /** ROC curve points (fpr, tpr) from (0,0) to (1,1), one per distinct threshold. */
    public static List<double[]> rocCurve(double[] scores, boolean[] labels) {
        check(scores, labels);
        Integer[] order = sortedIndices(scores, false);
        long pos = positives(labels);
        long neg = labels.length - pos;
        List<double[]> pts = new ArrayList<>();
        pts.add(new double[] {0, 0});
        int tp = 0;
        int fp = 0;
        int i = 0;
        while (i < order.length) {
            int j = i;
            while (j < order.length && scores[order[j]] == scores[order[i]]) {
                if (labels[order[j]]) {
                    tp++;
                } else {
                    fp++;
                }
                j++;
            }
            pts.add(new double[] {ratio(fp, neg), ratio(tp, pos)});
            i = j;
        }
        return pts;
    }

    /**
     * The highest threshold (among the observed scores) whose sensitivity is at least {@code minSensitivity};
     * highest so specificity is as good as possible under that constraint.
     */
    public static double thresholdForSensitivity(double[] scores, boolean[] labels, double minSensitivity) {
        check(scores, labels);
        double[] candidates = distinctDescending(scores);
        for (double t : candidates) {
            if (confusion(scores, labels, t).sensitivity() >= minSensitivity) {
                return t;
            }
        }
        return candidates.length == 0 ? 0.5 : candidates[candidates.length - 1];
    }

    /** Threshold maximising Youden's J = sensitivity + specificity - 1 (ties: the higher threshold). */
    public static double youdenThreshold(double[] scores, boolean[] labels) {
        check(scores, labels);
        double best = 0.5;
        double bestJ = Double.NEGATIVE_INFINITY;
        for (double t : distinctDescending(scores)) {
            Confusion c = confusion(scores, labels, t);
            double j = c.sensitivity() + c.specificity() - 1;
            if (j > bestJ) {
                bestJ = j;
                best = t;
            }
        }
        return best;
    }

    /** Point estimates and 95% percentile-bootstrap CIs of accuracy, sensitivity, specificity, ROC AUC, PR AUC. */
    public static Map<String, Estimate> withBootstrap(double[] scores, boolean[] labels, double threshold,
            int resamples, long seed) {
        return withBootstrap(scores, labels, null, null, threshold, resamples, seed);
    }

    /**
     * As {@link #withBootstrap(double[], boolean[], double, int, long)}, plus the ROC-curve sensitivity at
     * specificity ≥ 0.90 (threshold-free, like the AUC); {@code calls} (nullable: score ≥ threshold) are the
     * positive calls for the threshold metrics, e.g. an ensemble's vote; {@code groups} (nullable: each case its
     * own group) are resampled as units, e.g. patient ids so that images of one patient stay together.
     */
    public static Map<String, Estimate> withBootstrap(double[] scores, boolean[] labels, boolean[] calls,
            String[] groups, double threshold, int resamples, long seed) {
        check(scores, labels);
        boolean[] predicted = calls != null ? calls : callsAt(scores, threshold);
        Map<String, java.util.function.Function<int[], Double>> fns = new LinkedHashMap<>();
        fns.put("accuracy", idx -> confusion(pick(predicted, idx), pick(labels, idx)).accuracy());
        fns.put("sensitivity", idx -> confusion(pick(predicted, idx), pick(labels, idx)).sensitivity());
        fns.put("specificity", idx -> confusion(pick(predicted, idx), pick(labels, idx)).specificity());
        fns.put("rocAuc", idx -> rocAuc(pick(scores, idx), pick(labels, idx)));
        fns.put("prAuc", idx -> prAuc(pick(scores, idx), pick(labels, idx)));
        fns.put("sensitivityAtSpecificity90", idx -> sensitivityAtSpecificity(pick(scores, idx), pick(labels, idx), 0.90));
        return bootstrap(scores.length, groups, fns, resamples, seed);
    }

    /** Percentile bootstrap (resampling cases with replacement); NaN replicates are skipped. */
    public static Map<String, Estimate> bootstrap(double[] scores, boolean[] labels,
            Map<String, BiFunction<double[], boolean[], Double>> fns, int resamples, long seed) {
        check(scores, labels);
        Map<String, java.util.function.Function<int[], Double>> byIndex = new LinkedHashMap<>();
        fns.forEach((k, f) -> byIndex.put(k, idx -> f.apply(pick(scores, idx), pick(labels, idx))));
        return bootstrap(scores.length, null, byIndex, resamples, seed);
    }

    /**
     * Percentile bootstrap over {@code n} cases given as index arrays: each replicate draws as many groups as there
     * are, with replacement, and takes all cases of each drawn group (cluster bootstrap; {@code groups} null = each
     * case its own group). The point estimate is the statistic on all cases. NaN replicates are skipped; fewer than
     * 10 valid replicates give NaN bounds.
     */
    public static Map<String, Estimate> bootstrap(int n, String[] groups,
            Map<String, java.util.function.Function<int[], Double>> fns, int resamples, long seed) {
        if (groups != null && groups.length != n) {
            throw new IllegalArgumentException("groups: " + groups.length + " for " + n + " cases");
        }
        List<int[]> members = groupMembers(n, groups);
        Map<String, double[]> reps = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        fns.keySet().forEach(k -> {
            reps.put(k, new double[resamples]);
            counts.put(k, 0);
        });
        Random random = new Random(seed);
        int[] buffer = new int[n];
        for (int r = 0; r < resamples && n > 0; r++) {
            int size = 0;
            for (int g = 0; g < members.size(); g++) {
                int[] m = members.get(random.nextInt(members.size()));
                if (size + m.length > buffer.length) {
                    buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, size + m.length));
                }
                System.arraycopy(m, 0, buffer, size, m.length);
                size += m.length;
            }
            int[] idx = Arrays.copyOf(buffer, size);
            for (Map.Entry<String, java.util.function.Function<int[], Double>> f : fns.entrySet()) {
                double v = f.getValue().apply(idx);
                if (!Double.isNaN(v)) {
                    int c = counts.get(f.getKey());
                    reps.get(f.getKey())[c] = v;
                    counts.put(f.getKey(), c + 1);
                }
            }
        }
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        Map<String, Estimate> out = new LinkedHashMap<>();
        for (Map.Entry<String, java.util.function.Function<int[], Double>> f : fns.entrySet()) {
            double value = n == 0 ? Double.NaN : f.getValue().apply(all);
            int c = counts.get(f.getKey());
            double[] v = Arrays.copyOf(reps.get(f.getKey()), c);
            Arrays.sort(v);
            out.put(f.getKey(), c < 10 ? new Estimate(value, Double.NaN, Double.NaN)
                    : new Estimate(value, percentile(v, 0.025), percentile(v, 0.975)));
        }
        return out;
    }

    /** Indices of each group, groups in order of first appearance (deterministic). */
    static List<int[]> groupMembers(int n, String[] groups) {
        List<int[]> out = new ArrayList<>();
        if (groups == null) {
            for (int i = 0; i < n; i++) {
                out.add(new int[] {i});
            }
            return out;
        }
        Map<String, List<Integer>> byGroup = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            byGroup.computeIfAbsent(groups[i], g -> new ArrayList<>()).add(i);
        }
        byGroup.values().forEach(l -> out.add(l.stream().mapToInt(Integer::intValue).toArray()));
        return out;
    }

    /** Confusion counts of given calls. */
    public static Confusion confusion(boolean[] predicted, boolean[] labels) {
        if (predicted.length != labels.length) {
            throw new IllegalArgumentException("calls and labels differ in length");
        }
        int tp = 0;
        int fp = 0;
        int tn = 0;
        int fn = 0;
        for (int i = 0; i < labels.length; i++) {
            if (labels[i]) {
                if (predicted[i]) {
                    tp++;
                } else {
                    fn++;
                }
            } else if (predicted[i]) {
                fp++;
            } else {
                tn++;
            }
        }
        return new Confusion(tp, fp, tn, fn);
    }

    static boolean[] callsAt(double[] scores, double threshold) {
        boolean[] c = new boolean[scores.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = scores[i] >= threshold;
        }
        return c;
    }

    /**
     * The best sensitivity on the ROC curve among thresholds whose specificity is ≥ {@code minSpecificity}
     * (an operating point of the curve, not of a chosen threshold). NaN if either class is absent.
     */
    public static double sensitivityAtSpecificity(double[] scores, boolean[] labels, double minSpecificity) {
        List<double[]> roc = rocCurve(scores, labels);
        double best = Double.NaN;
        for (double[] pt : roc) {
            if (Double.isNaN(pt[0]) || Double.isNaN(pt[1])) {
                return Double.NaN;
            }
            if (1 - pt[0] >= minSpecificity - 1e-12) {
                best = Double.isNaN(best) ? pt[1] : Math.max(best, pt[1]);
            }
        }
        return best;
    }

    /** Precision-recall curve points (recall, precision), one per distinct threshold, descending thresholds. */
    public static List<double[]> prCurve(double[] scores, boolean[] labels) {
        check(scores, labels);
        Integer[] order = sortedIndices(scores, false);
        long pos = positives(labels);
        List<double[]> pts = new ArrayList<>();
        int tp = 0;
        int seen = 0;
        int i = 0;
        while (i < order.length) {
            int j = i;
            while (j < order.length && scores[order[j]] == scores[order[i]]) {
                if (labels[order[j]]) {
                    tp++;
                }
                j++;
            }
            seen = j;
            pts.add(new double[] {ratio(tp, pos), tp / (double) seen});
            i = j;
        }
        return pts;
    }

    static double[] pick(double[] v, int[] idx) {
        double[] out = new double[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = v[idx[i]];
        }
        return out;
    }

    static boolean[] pick(boolean[] v, int[] idx) {
        boolean[] out = new boolean[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = v[idx[i]];
        }
        return out;
    }

    /** Linear-interpolated percentile of sorted values. */
    static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    private static double[] distinctDescending(double[] scores) {
        return Arrays.stream(scores).distinct().boxed().sorted((a, b) -> Double.compare(b, a))
                .mapToDouble(Double::doubleValue).toArray();
    }

    private static Integer[] sortedIndices(double[] scores, boolean ascending) {
        Integer[] idx = new Integer[scores.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> ascending ? Double.compare(scores[a], scores[b]) : Double.compare(scores[b], scores[a]));
        return idx;
    }

    private static double ratio(long a, long b) {
        return b == 0 ? Double.NaN : a / (double) b;
    }

    private static void check(double[] scores, boolean[] labels) {
        if (scores.length != labels.length) {
            throw new IllegalArgumentException("scores and labels differ in length: " + scores.length + " vs "
                    + labels.length);
        }
    }

    private static long positives(boolean[] labels) {
        long pos = 0;
        for (boolean l : labels) {
            if (l) {
                pos++;
            }
        }
        return pos;
    }
}
