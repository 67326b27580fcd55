package org.cxrtriage.trainer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Whether the published probability can be read as one: the score events carry p(covid), and a dashboard shows it.
 * Reliability bins (equal width), the Brier score against that of always answering the prevalence, the expected
 * calibration error, and the logistic recalibration fit {@code logit P(covid) = intercept + slope · logit(p)}
 * (slope 1 and intercept 0 when calibrated; slope < 1: too confident). Pure computation, no model.
 */
final class Calibration {
    static final int DEFAULT_BINS = 10;
    /** Scores are clamped this far from 0 and 1 before the logit, so p = 0 or 1 does not give infinities. */
    private static final double EPSILON = 1e-7;

    private Calibration() {}

    /** One reliability bin: scores in [lower, upper) (the last bin includes 1), their mean and the positive rate. */
    record Bin(double lower, double upper, int n, double meanPredicted, double observed) {}

    /** Mean squared difference between the score and the label (1 = positive): 0 is perfect, lower is better. */
    static double brier(double[] p, boolean[] y) {
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            double d = p[i] - (y[i] ? 1 : 0);
            sum += d * d;
        }
        return p.length == 0 ? Double.NaN : sum / p.length;
    }

    static List<Bin> bins(double[] p, boolean[] y, int count) {
        int[] n = new int[count];
        double[] sumP = new double[count];
        int[] positives = new int[count];
        for (int i = 0; i < p.length; i++) {
            int b = bin(p[i], count);
            n[b]++;
            sumP[b] += p[i];
            positives[b] += y[i] ? 1 : 0;
        }
        List<Bin> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            out.add(new Bin(b / (double) count, (b + 1) / (double) count, n[b],
                    n[b] == 0 ? Double.NaN : sumP[b] / n[b], n[b] == 0 ? Double.NaN : positives[b] / (double) n[b]));
        }
        return out;
    }

    /** Expected calibration error: the bins' |positive rate − mean score|, weighted by their share of the cases. */
    static double ece(double[] p, boolean[] y, int count) {
        if (p.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (Bin b : bins(p, y, count)) {
            if (b.n() > 0) {
                sum += b.n() * Math.abs(b.observed() - b.meanPredicted());
            }
        }
        return sum / p.length;
    }

    /**
     * Maximum-likelihood fit of {@code logit P(y) = intercept + slope · logit(p)} by Newton's method; {intercept,
     * slope}, both NaN when there is no finite fit (one class only, or scores that separate the classes perfectly).
     */
    static double[] recalibration(double[] p, boolean[] y) {
        int n = p.length;
        double[] x = new double[n];
        boolean anyPositive = false;
        boolean anyNegative = false;
        for (int i = 0; i < n; i++) {
            double q = Math.min(1 - EPSILON, Math.max(EPSILON, p[i]));
            x[i] = Math.log(q / (1 - q));
            anyPositive |= y[i];
            anyNegative |= !y[i];
        }
        double[] none = {Double.NaN, Double.NaN};
        if (!anyPositive || !anyNegative) {
            return none;
        }
        double a = 0;
        double b = 1;
        for (int iteration = 0; iteration < 100; iteration++) {
            // Gradient and Hessian of the log-likelihood in (a, b).
            double ga = 0;
            double gb = 0;
            double haa = 0;
            double hab = 0;
            double hbb = 0;
            for (int i = 0; i < n; i++) {
                double mu = 1 / (1 + Math.exp(-(a + b * x[i])));
                double r = (y[i] ? 1 : 0) - mu;
                double w = mu * (1 - mu);
                ga += r;
                gb += r * x[i];
                haa += w;
                hab += w * x[i];
                hbb += w * x[i] * x[i];
            }
            double det = haa * hbb - hab * hab;
            if (!(det > 1e-12)) {
                return none; // flat likelihood: the fit runs off to infinity (separated classes)
            }
            double da = (hbb * ga - hab * gb) / det;
            double db = (haa * gb - hab * ga) / det;
            a += da;
            b += db;
            if (Math.abs(a) > 1e3 || Math.abs(b) > 1e3) {
                return none;
            }
            if (Math.abs(da) < 1e-10 && Math.abs(db) < 1e-10) {
                return new double[] {a, b};
            }
        }
        return none;
    }

    /** The {@code calibration} block of metrics.json, with 95% patient-bootstrap CIs. */
    static Map<String, Object> report(List<Evaluation.Case> cases, int bins, int resamples, long seed) {
        double[] p = Evaluation.scores(cases);
        boolean[] y = Evaluation.labels(cases);
        Map<String, Function<int[], Double>> fns = new LinkedHashMap<>();
        fns.put("brier", idx -> brier(Metrics.pick(p, idx), Metrics.pick(y, idx)));
        fns.put("brierOfPrevalence", idx -> {
            double rate = mean(Metrics.pick(y, idx));
            return rate * (1 - rate);
        });
        fns.put("ece", idx -> ece(Metrics.pick(p, idx), Metrics.pick(y, idx), bins));
        fns.put("meanPredictedMinusObserved", idx -> mean(Metrics.pick(p, idx)) - mean(Metrics.pick(y, idx)));
        fns.put("slope", idx -> recalibration(Metrics.pick(p, idx), Metrics.pick(y, idx))[1]);
        fns.put("intercept", idx -> recalibration(Metrics.pick(p, idx), Metrics.pick(y, idx))[0]);
        Map<String, Object> metrics = new LinkedHashMap<>();
        Metrics.bootstrap(cases.size(), Evaluation.patients(cases), fns, resamples, seed)
                .forEach((name, e) -> metrics.put(name, Evaluation.estimate(e)));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("description", "how far p(covid) reads as a probability on this split: brier = mean (p - label)^2 "
                + "(brierOfPrevalence: of always answering the split's positive rate); ece = the " + bins + " equal-"
                + "width bins' |positive rate - mean p|, weighted by their cases; slope and intercept of the fit "
                + "logit P(covid) = intercept + slope * logit(p) (calibrated: 1 and 0; slope < 1: too confident). "
                + "They hold at this split's positive rate, not at a department's. CIs: 95% percentile bootstrap over "
                + "patients");
        out.put("n", cases.size());
        out.put("positiveRate", cases.isEmpty() ? null : mean(y));
        out.put("meanPredicted", cases.isEmpty() ? null : mean(p));
        out.put("metrics", metrics);
        List<Map<String, Object>> table = new ArrayList<>();
        for (Bin b : bins(p, y, bins)) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("lower", b.lower());
            row.put("upper", b.upper());
            row.put("n", b.n());
            row.put("meanPredicted", b.n() == 0 ? null : b.meanPredicted());
            row.put("observed", b.n() == 0 ? null : b.observed());
            table.add(row);
        }
        out.put("bins", table);
        return out;
    }

    private static int bin(double p, int count) {
        return Math.max(0, Math.min(count - 1, (int) Math.floor(p * count)));
    }

    private static double mean(double[] v) {
        return java.util.Arrays.stream(v).average().orElse(Double.NaN);
    }

    private static double mean(boolean[] v) {
        int s = 0;
        for (boolean b : v) {
            s += b ? 1 : 0;
        }
        return v.length == 0 ? Double.NaN : s / (double) v.length;
    }
}
