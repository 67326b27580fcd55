package org.cxrtriage.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CalibrationTest {

    /** {@code n} cases at score {@code p}, {@code positives} of them positive. */
    private static void add(List<Double> p, List<Boolean> y, double score, int n, int positives) {
        for (int i = 0; i < n; i++) {
            p.add(score);
            y.add(i < positives);
        }
    }

    private static double[] scores(List<Double> p) {
        return p.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static boolean[] labels(List<Boolean> y) {
        boolean[] out = new boolean[y.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = y.get(i);
        }
        return out;
    }

    @Test
    void brierScoreByHand() {
        // ((0.9 - 1)^2 + (0.2 - 0)^2 + (0.6 - 0)^2) / 3 = (0.01 + 0.04 + 0.36) / 3
        assertThat(Calibration.brier(new double[] {0.9, 0.2, 0.6}, new boolean[] {true, false, false}))
                .isCloseTo(0.41 / 3, within(1e-12));
        assertThat(Calibration.brier(new double[] {1, 0}, new boolean[] {true, false})).isZero();
    }

    @Test
    void binsAndExpectedCalibrationErrorByHand() {
        double[] p = {0.05, 0.07, 0.1, 0.95, 1.0};
        boolean[] y = {true, false, false, true, true};
        List<Calibration.Bin> bins = Calibration.bins(p, y, 10);

        assertThat(bins).hasSize(10);
        // [0, 0.1): 0.05 and 0.07, one positive
        assertThat(bins.get(0).n()).isEqualTo(2);
        assertThat(bins.get(0).meanPredicted()).isCloseTo(0.06, within(1e-12));
        assertThat(bins.get(0).observed()).isEqualTo(0.5);
        // 0.1 opens the next bin; 1.0 falls in the last one
        assertThat(bins.get(1).n()).isEqualTo(1);
        assertThat(bins.get(1).observed()).isZero();
        assertThat(bins.get(9).n()).isEqualTo(2);
        assertThat(bins.get(9).meanPredicted()).isCloseTo(0.975, within(1e-12));
        assertThat(bins.get(5).n()).isZero();
        assertThat(bins.get(5).observed()).isNaN();
        // ECE = (2 |0.5 - 0.06| + 1 |0 - 0.1| + 2 |1 - 0.975|) / 5
        assertThat(Calibration.ece(p, y, 10)).isCloseTo((2 * 0.44 + 0.1 + 2 * 0.025) / 5, within(1e-12));
    }

    /** The recalibration fit of groups of cases: {@code n[g]} cases at score {@code p[g]}, {@code k[g]} positive. */
    private static double[] fit(double[] p, int[] n, int[] k) {
        List<Double> scores = new ArrayList<>();
        List<Boolean> labels = new ArrayList<>();
        for (int g = 0; g < p.length; g++) {
            add(scores, labels, p[g], n[g], k[g]);
        }
        return Calibration.recalibration(scores(scores), labels(labels));
    }

    @Test
    void aCalibratedModelFitsSlopeOneAndInterceptZero() {
        double[] fit = fit(new double[] {0.2, 0.5, 0.8}, new int[] {10, 10, 10}, new int[] {2, 5, 8});
        assertThat(fit[0]).isCloseTo(0, within(1e-9));
        assertThat(fit[1]).isCloseTo(1, within(1e-9));
    }

    @Test
    void anOverconfidentModelFitsSlopeBelowOne() {
        // Scores 0.1 / 0.9 where the truth is 0.25 / 0.75: logit 0.75 = ln 3 = half of logit 0.9 = ln 9, so slope 0.5.
        double[] fit = fit(new double[] {0.1, 0.9}, new int[] {20, 20}, new int[] {5, 15});
        assertThat(fit[0]).isCloseTo(0, within(1e-9));
        assertThat(fit[1]).isCloseTo(0.5, within(1e-9));
    }

    @Test
    void noFiniteFitForOneClassOrPerfectSeparation() {
        assertThat(Calibration.recalibration(new double[] {0.2, 0.7}, new boolean[] {true, true})).containsOnly(Double.NaN);
        assertThat(Calibration.recalibration(new double[] {0.1, 0.2, 0.8, 0.9}, new boolean[] {false, false, true, true}))
                .containsOnly(Double.NaN);
    }

    @Test
    void theReportHasEstimatesWithIntervalsAndTheBins() throws Exception {
        List<Evaluation.Case> cases = new ArrayList<>();
        double[] p = {0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9};
        boolean[] y = {false, true, false, false, true, false, true, true};
        for (int repeat = 0; repeat < 5; repeat++) {
            for (int i = 0; i < p.length; i++) {
                cases.add(new Evaluation.Case("f" + repeat + i, "pt" + repeat + i, "s", y[i], p[i], null));
            }
        }
        Map<String, Object> report = Calibration.report(cases, 10, 200, 7L);
        JsonNode json = new ObjectMapper().valueToTree(report);

        assertThat(json.get("n").asInt()).isEqualTo(40);
        assertThat(json.get("positiveRate").asDouble()).isEqualTo(0.5);
        assertThat(json.get("meanPredicted").asDouble()).isCloseTo(0.5, within(1e-12));
        JsonNode brier = json.get("metrics").get("brier");
        assertThat(brier.get("value").asDouble()).isCloseTo(Calibration.brier(p, y), within(1e-12));
        assertThat(brier.get("ci95").get(0).asDouble()).isLessThanOrEqualTo(brier.get("value").asDouble());
        assertThat(brier.get("ci95").get(1).asDouble()).isGreaterThanOrEqualTo(brier.get("value").asDouble());
        assertThat(json.get("metrics").get("brierOfPrevalence").get("value").asDouble()).isEqualTo(0.25);
        assertThat(json.get("metrics").get("meanPredictedMinusObserved").get("value").asDouble())
                .isCloseTo(0, within(1e-12));
        assertThat(json.get("metrics").get("slope").get("value").asDouble()).isPositive();
        assertThat(json.get("bins")).hasSize(10);
        assertThat(json.get("bins").get(5).get("n").asInt()).isZero();
        assertThat(json.get("bins").get(5).get("observed").isNull()).isTrue();
        assertThat(json.get("bins").get(1).get("n").asInt()).isEqualTo(5);

        // No cases (e.g. every image of the split rejected): nulls, not NaN, which JSON cannot hold.
        JsonNode empty = new ObjectMapper().valueToTree(Calibration.report(List.of(), 10, 50, 7L));
        assertThat(empty.get("positiveRate").isNull()).isTrue();
        assertThat(empty.get("metrics").get("brier").get("value").isNull()).isTrue();
    }
}
