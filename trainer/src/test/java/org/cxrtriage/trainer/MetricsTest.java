package org.cxrtriage.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsTest {
    // scores 0.9 0.8 0.7 0.6 0.5 0.4 ; labels P P N P N N
    private static final double[] S = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
    private static final boolean[] L = {true, true, false, true, false, false};

    @Test
    void rocAucOfKnownRanking() {
        // positive-negative pairs ranked correctly: P0 beats 3 N, P1 beats 3, P3 beats 2 of 3 -> 8/9
        assertThat(Metrics.rocAuc(S, L)).isCloseTo(8.0 / 9, within(1e-12));
    }

    @Test
    void rocAucPerfectInvertedAndTies() {
        assertThat(Metrics.rocAuc(new double[] {0.9, 0.1}, new boolean[] {true, false})).isEqualTo(1.0);
        assertThat(Metrics.rocAuc(new double[] {0.1, 0.9}, new boolean[] {true, false})).isEqualTo(0.0);
        // all tied: every pair counts 1/2
        assertThat(Metrics.rocAuc(new double[] {0.5, 0.5, 0.5}, new boolean[] {true, false, false})).isEqualTo(0.5);
        // one tie between the positive and one of two negatives: (1 + 0.5) / 2
        assertThat(Metrics.rocAuc(new double[] {0.5, 0.5, 0.1}, new boolean[] {true, false, false}))
                .isEqualTo(0.75);
        assertThat(Metrics.rocAuc(new double[] {0.5, 0.4}, new boolean[] {true, true})).isNaN();
    }

    @Test
    void prAucIsAveragePrecision() {
        // ranks of positives 1,2,4: AP = (1/3)(1/1 + 2/2 + 3/4) = 0.91666...
        assertThat(Metrics.prAuc(S, L)).isCloseTo((1 + 1 + 0.75) / 3, within(1e-12));
        // tie of a positive and a negative at the top: one step to recall 1 at precision 1/2
        assertThat(Metrics.prAuc(new double[] {0.5, 0.5}, new boolean[] {true, false})).isEqualTo(0.5);
    }

    @Test
    void confusionAtThreshold() {
        Metrics.Confusion c = Metrics.confusion(S, L, 0.65);
        // >= 0.65: 0.9 P, 0.8 P, 0.7 N -> tp 2, fp 1; below: 0.6 P (fn), 0.5 N, 0.4 N (tn 2)
        assertThat(c).isEqualTo(new Metrics.Confusion(2, 1, 2, 1));
        assertThat(c.accuracy()).isCloseTo(4.0 / 6, within(1e-12));
        assertThat(c.sensitivity()).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(c.specificity()).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(Metrics.confusion(S, L, 0.6).sensitivity()).isEqualTo(1.0); // >= is positive
    }

    @Test
    void thresholdRules() {
        // sensitivity >= 0.9 needs all 3 positives: highest such threshold is 0.6
        assertThat(Metrics.thresholdForSensitivity(S, L, 0.9)).isEqualTo(0.6);
        // >= 0.6 of 3 positives reached already at 0.8 (2/3)
        assertThat(Metrics.thresholdForSensitivity(S, L, 0.6)).isEqualTo(0.8);
        // Youden: t=0.8 -> 2/3+1-1 = .667; t=0.6 -> 1 + 2/3 - 1 = .667 (tie -> higher threshold 0.8)
        assertThat(Metrics.youdenThreshold(S, L)).isEqualTo(0.8);
    }

    @Test
    void rocCurveEndsAtCorners() {
        List<double[]> pts = Metrics.rocCurve(S, L);
        assertThat(pts.get(0)).containsExactly(0, 0);
        assertThat(pts.get(pts.size() - 1)).containsExactly(1, 1);
        assertThat(pts).hasSize(S.length + 1);
    }

    @Test
    void bootstrapIntervalContainsEstimateAndIsDeterministic() {
        double[] s = new double[200];
        boolean[] l = new boolean[200];
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < s.length; i++) {
            l[i] = i % 2 == 0;
            s[i] = (l[i] ? 0.6 : 0.4) + r.nextGaussian() * 0.2;
        }
        Map<String, Metrics.Estimate> a = Metrics.withBootstrap(s, l, 0.5, 300, 7);
        Map<String, Metrics.Estimate> b = Metrics.withBootstrap(s, l, 0.5, 300, 7);
        assertThat(a).isEqualTo(b);
        for (Metrics.Estimate e : a.values()) {
            assertThat(e.lower()).isLessThanOrEqualTo(e.value());
            assertThat(e.upper()).isGreaterThanOrEqualTo(e.value());
            assertThat(e.upper() - e.lower()).isBetween(0.01, 0.4);
        }
    }

    @Test
    void percentileInterpolates() {
        assertThat(Metrics.percentile(new double[] {1, 2, 3, 4, 5}, 0.5)).isEqualTo(3.0);
        assertThat(Metrics.percentile(new double[] {0, 10}, 0.25)).isEqualTo(2.5);
    }
}
