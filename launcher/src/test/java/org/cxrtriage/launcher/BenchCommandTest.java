package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class BenchCommandTest {

    @Test
    void theBacklogRateCountsTheFirstHalfFromTheResume() {
        // 8 images: the first 4 scored 100, 200, 300, 400 ms after the resume at t = 1000 (any order);
        // the last 4 much later (the second instance ran dry, the first one is finishing alone).
        long[] scoredAt = {1300, 5000, 1100, 1400, 6000, 1200, 7000, 8000};
        assertThat(BenchCommand.firstHalfRate(scoredAt, 1000)).isCloseTo(10.0, within(1e-9)); // 4 images in 0.4 s
        assertThat(scoredAt[0]).as("input left as it was").isEqualTo(1300);
    }

    @Test
    void theBacklogRateNeedsTwoImages() {
        assertThatThrownBy(() -> BenchCommand.firstHalfRate(new long[] {5}, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theOverloadRateEndsWhenTheLastImageLeavesPreprocessing() {
        // Phase from t = 1000; 5 images preprocessed by t = 2000. Three came out at the back by then (one exactly
        // at 2000), two in the drain, the last at 2500.
        BenchCommand.Overload o = BenchCommand.overload(1000, new long[] {1200, 1400, 1600, 1800, 2000},
                new long[] {1500, 1700, 2000, 2300, 2500});
        assertThat(o.images()).isEqualTo(3);
        assertThat(o.seconds()).isEqualTo(1.0);
        assertThat(o.rate()).isEqualTo(3.0);
        assertThat(o.drainImages()).isEqualTo(2);
        assertThat(o.drainSeconds()).isEqualTo(0.5);
        assertThat(BenchCommand.overload(1000, new long[0], new long[0])).isNull();
    }
}
