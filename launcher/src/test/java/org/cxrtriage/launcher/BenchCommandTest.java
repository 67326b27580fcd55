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
}
