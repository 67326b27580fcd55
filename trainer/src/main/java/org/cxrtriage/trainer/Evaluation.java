package org.cxrtriage.trainer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns scored cases into the evaluation report: overall metrics with bootstrap CIs and the confusion matrix,
 * kNN over embeddings, per-source metrics and the within-ieee8023 contrast. Pure computation (no model).
 */
public final class Evaluation {
    public static final String HARD_SOURCE = "ieee8023";

    /**
     * One evaluated case.
     *
     * @param score p(positive) (an ensemble: the mean of its models' probabilities)
     * @param call the positive call when it is not simply score ≥ threshold (an ensemble's majority vote); null
     *     otherwise
     */
    public record Case(String file, String patientId, String source, boolean positive, double score,
            float[] embedding, Boolean call) {
        public Case(String file, String patientId, String source, boolean positive, double score, float[] embedding) {
            this(file, patientId, source, positive, score, embedding, null);
        }

        public boolean calledAt(double threshold) {
            return call != null ? call : score >= threshold;
        }
    }

    private Evaluation() {}

    public static Map<String, Object> report(List<Case> cases, List<Case> reference, double threshold, int k,
            int resamples, long seed) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("cases", cases.size());
        out.put("positives", cases.stream().filter(Case::positive).count());
        out.put("threshold", threshold);
        out.put("overall", block(cases, threshold, resamples, seed));
        if (reference != null && !reference.isEmpty() && k > 0) {
            out.put("knn", knn(cases, reference, k, threshold, resamples, seed));
        }
        Map<String, List<Case>> bySource = new TreeMap<>();
        for (Case c : cases) {
            bySource.computeIfAbsent(c.source(), s -> new ArrayList<>()).add(c);
        }
        Map<String, Object> perSource = new LinkedHashMap<>();
        bySource.forEach((s, cs) -> perSource.put(s, simple(cs, threshold)));
        out.put("perSource", perSource);
        List<Case> hard = bySource.getOrDefault(HARD_SOURCE, List.of());
        Map<String, Object> within = block(hard, threshold, resamples, seed);
        within.put("description", HARD_SOURCE + " covid vs " + HARD_SOURCE
                + " negative (same collection: the contrast least explained by source)");
        out.put("within_" + HARD_SOURCE, within);
        return out;
    }

    /** Overall and within-ieee8023 metrics with CIs: the report of one alternative view of the same images. */
    static Map<String, Object> viewReport(List<Case> cases, double threshold, int resamples, long seed) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("overall", block(cases, threshold, resamples, seed));
        out.put("within_" + HARD_SOURCE, block(cases.stream().filter(c -> HARD_SOURCE.equals(c.source())).toList(),
                threshold, resamples, seed));
        return out;
    }

    static Map<String, Object> block(List<Case> cases, double threshold, int resamples, long seed) {
        double[] s = scores(cases);
        boolean[] l = labels(cases);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("n", cases.size());
        out.put("positives", count(l));
        out.put("negatives", l.length - count(l));
        boolean[] calls = calls(cases, threshold);
        Map<String, Object> metrics = new LinkedHashMap<>();
        Metrics.withBootstrap(s, l, calls, patients(cases), threshold, resamples, seed).forEach((name, e) ->
                metrics.put(name, estimate(e)));
        out.put("metrics", metrics);
        out.put("ci", "95% percentile bootstrap over patients (" + resamples + " resamples, seed " + seed
                + "): all images of a drawn patient are kept together");
        Metrics.Confusion c = Metrics.confusion(calls, l);
        out.put("confusion", confusion(c));
        return out;
    }

    static Map<String, Object> simple(List<Case> cases, double threshold) {
        double[] s = scores(cases);
        boolean[] l = labels(cases);
        Metrics.Confusion c = Metrics.confusion(calls(cases, threshold), l);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("n", cases.size());
        out.put("positives", count(l));
        out.put("negatives", l.length - count(l));
        out.put("accuracy", nan(c.accuracy()));
        out.put("sensitivity", nan(c.sensitivity()));
        out.put("specificity", nan(c.specificity()));
        out.put("rocAuc", nan(Metrics.rocAuc(s, l)));
        out.put("meanScore", cases.stream().mapToDouble(Case::score).average().orElse(Double.NaN));
        out.put("confusion", confusion(c));
        return out;
    }

    /**
     * kNN over embeddings (Euclidean): each case's k nearest reference cases, skipping the same patient; the
     * vote is the neighbours' positive fraction, positive at >= 0.5 (paper: averaging the neighbours). Patient-level
     * bootstrap CIs, including the paired difference classifier accuracy − kNN accuracy.
     */
    static Map<String, Object> knn(List<Case> cases, List<Case> reference, int k, double threshold, int resamples,
            long seed) {
        double[] votes = knnVotes(cases, reference, k);
        boolean[] l = labels(cases);
        boolean[] knnCalls = Metrics.callsAt(votes, 0.5);
        boolean[] classifier = calls(cases, threshold);
        Map<String, java.util.function.Function<int[], Double>> fns = new LinkedHashMap<>();
        fns.put("accuracy", idx -> Metrics.confusion(Metrics.pick(knnCalls, idx), Metrics.pick(l, idx)).accuracy());
        fns.put("sensitivity", idx -> Metrics.confusion(Metrics.pick(knnCalls, idx), Metrics.pick(l, idx)).sensitivity());
        fns.put("specificity", idx -> Metrics.confusion(Metrics.pick(knnCalls, idx), Metrics.pick(l, idx)).specificity());
        fns.put("rocAuc", idx -> Metrics.rocAuc(Metrics.pick(votes, idx), Metrics.pick(l, idx)));
        fns.put("classifierMinusKnnAccuracy", idx -> Metrics.confusion(Metrics.pick(classifier, idx),
                Metrics.pick(l, idx)).accuracy() - Metrics.confusion(Metrics.pick(knnCalls, idx),
                Metrics.pick(l, idx)).accuracy());
        Map<String, Metrics.Estimate> est = Metrics.bootstrap(cases.size(), patients(cases), fns, resamples, seed);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("k", k);
        out.put("referenceCases", reference.size());
        est.forEach((name, e) -> out.put(name, nan(e.value())));
        Map<String, Object> ci = new LinkedHashMap<>();
        est.forEach((name, e) -> ci.put(name, estimate(e).get("ci95")));
        out.put("ci95", ci);
        Metrics.Confusion c = Metrics.confusion(knnCalls, l);
        out.put("confusion", confusion(c));
        return out;
    }

    static double[] knnVotes(List<Case> cases, List<Case> reference, int k) {
        double[] votes = new double[cases.size()];
        for (int i = 0; i < cases.size(); i++) {
            Case q = cases.get(i);
            double[] bestD = new double[k];
            boolean[] bestL = new boolean[k];
            java.util.Arrays.fill(bestD, Double.POSITIVE_INFINITY);
            int found = 0;
            for (Case r : reference) {
                if (r.patientId().equals(q.patientId())) {
                    continue;
                }
                double d = 0;
                for (int j = 0; j < q.embedding().length; j++) {
                    double diff = q.embedding()[j] - r.embedding()[j];
                    d += diff * diff;
                }
                if (d < bestD[k - 1]) {
                    int pos = k - 1;
                    while (pos > 0 && bestD[pos - 1] > d) {
                        bestD[pos] = bestD[pos - 1];
                        bestL[pos] = bestL[pos - 1];
                        pos--;
                    }
                    bestD[pos] = d;
                    bestL[pos] = r.positive();
                    found = Math.min(k, found + 1);
                }
            }
            int pos = 0;
            for (int j = 0; j < found; j++) {
                if (bestL[j]) {
                    pos++;
                }
            }
            votes[i] = found == 0 ? 0 : pos / (double) found;
        }
        return votes;
    }

    /** tp, fp, tn, fn in that order, so that metrics.json does not reorder them from run to run. */
    private static Map<String, Object> confusion(Metrics.Confusion c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tp", c.tp());
        m.put("fp", c.fp());
        m.put("tn", c.tn());
        m.put("fn", c.fn());
        return m;
    }

    static Map<String, Object> estimate(Metrics.Estimate e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("value", nan(e.value()));
        m.put("ci95", Double.isNaN(e.lower()) || Double.isNaN(e.upper()) ? null : List.of(e.lower(), e.upper()));
        return m;
    }

    private static Double nan(double v) {
        return Double.isNaN(v) ? null : v;
    }

    static double[] scores(List<Case> cases) {
        return cases.stream().mapToDouble(Case::score).toArray();
    }

    static boolean[] calls(List<Case> cases, double threshold) {
        boolean[] c = new boolean[cases.size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = cases.get(i).calledAt(threshold);
        }
        return c;
    }

    static String[] patients(List<Case> cases) {
        return cases.stream().map(Case::patientId).toArray(String[]::new);
    }

    /**
     * Combines the same cases scored by several models (lists in the same order): probability = mean of the
     * models' probabilities; call = majority vote of the models' calls at their own thresholds, a tie broken by
     * mean probability ≥ mean threshold; embedding = the models' embeddings concatenated.
     */
    public static List<Case> ensemble(List<List<Case>> perModel, double[] thresholds) {
        if (perModel.isEmpty() || perModel.size() != thresholds.length) {
            throw new IllegalArgumentException("one threshold per model required");
        }
        int m = perModel.size();
        int n = perModel.get(0).size();
        double meanThreshold = java.util.Arrays.stream(thresholds).average().orElse(0.5);
        List<Case> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Case first = perModel.get(0).get(i);
            double sum = 0;
            int votes = 0;
            int dims = 0;
            for (int j = 0; j < m; j++) {
                Case c = perModel.get(j).get(i);
                if (perModel.get(j).size() != n || !c.file().equals(first.file())) {
                    throw new IllegalArgumentException("models scored different cases");
                }
                sum += c.score();
                votes += c.calledAt(thresholds[j]) ? 1 : 0;
                dims += c.embedding() == null ? 0 : c.embedding().length;
            }
            double mean = sum / m;
            boolean call = 2 * votes > m || (2 * votes == m && mean >= meanThreshold);
            float[] embedding = new float[dims];
            int at = 0;
            for (int j = 0; j < m; j++) {
                float[] e = perModel.get(j).get(i).embedding();
                if (e != null) {
                    System.arraycopy(e, 0, embedding, at, e.length);
                    at += e.length;
                }
            }
            out.add(new Case(first.file(), first.patientId(), first.source(), first.positive(), mean, embedding,
                    call));
        }
        return out;
    }

    static boolean[] labels(List<Case> cases) {
        boolean[] l = new boolean[cases.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = cases.get(i).positive();
        }
        return l;
    }

    private static int count(boolean[] l) {
        int n = 0;
        for (boolean b : l) {
            if (b) {
                n++;
            }
        }
        return n;
    }
}
