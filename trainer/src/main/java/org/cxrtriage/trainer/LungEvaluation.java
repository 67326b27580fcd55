package org.cxrtriage.trainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.cxrtriage.imaging.LungMap;
import org.cxrtriage.imaging.LungSegmenter;

/** Dice of a {@link LungSegmenter} against aligned masks, at the plane resolution (the stream's own path). */
final class LungEvaluation {
    /** Summary of per-image Dice values. */
    record Summary(int n, double mean, double min, double median, double max, Map<String, double[]> bySource,
            double meanLungFraction, double minLungFraction, double ms) {
        String line() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "n %d: mean Dice %.4f, min %.4f, median %.4f, max %.4f; lung fraction mean %.3f min %.3f; %.1f ms/image",
                    n, mean, min, median, max, meanLungFraction, minLungFraction, ms));
            bySource.forEach((source, v) -> sb.append(String.format(Locale.ROOT, "; %s n %d mean %.4f", source,
                    (int) v[0], v[1])));
            return sb.toString();
        }
    }

    private LungEvaluation() {}

    static double[] dices(List<LungMasks.Sample> samples, LungSegmenter segmenter, double[] lungFractions,
            long[] nanos) {
        double[] out = new double[samples.size()];
        for (int i = 0; i < out.length; i++) {
            LungMasks.Sample s = samples.get(i);
            long t0 = System.nanoTime();
            LungMap map = segmenter.segment(s.cxr(), s.size());
            nanos[0] += System.nanoTime() - t0;
            out[i] = LungMasks.dice(map.probability(), s.mask());
            if (lungFractions != null) {
                lungFractions[i] = map.lungAreaFraction();
            }
        }
        return out;
    }

    static Summary evaluate(List<LungMasks.Sample> samples, LungSegmenter segmenter) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples to evaluate");
        }
        double[] fractions = new double[samples.size()];
        long[] nanos = {0};
        double[] d = dices(samples, segmenter, fractions, nanos);
        double[] sorted = d.clone();
        Arrays.sort(sorted);
        Map<String, List<Double>> bySource = new TreeMap<>();
        for (int i = 0; i < d.length; i++) {
            bySource.computeIfAbsent(samples.get(i).entry().source(), k -> new ArrayList<>()).add(d[i]);
        }
        Map<String, double[]> perSource = new TreeMap<>();
        bySource.forEach((k, v) -> perSource.put(k, new double[] {v.size(),
                v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN)}));
        return new Summary(d.length, Arrays.stream(d).average().orElse(Double.NaN), sorted[0],
                sorted[sorted.length / 2], sorted[sorted.length - 1], perSource,
                Arrays.stream(fractions).average().orElse(Double.NaN), Arrays.stream(fractions).min().orElse(Double.NaN),
                nanos[0] / 1e6 / d.length);
    }
}
