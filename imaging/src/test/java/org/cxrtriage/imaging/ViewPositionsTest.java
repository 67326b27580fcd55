package org.cxrtriage.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ViewPositionsTest {

    @Test
    void lateralSpellingsAreLateral() {
        for (String v : new String[] {"LL", "RL", "LLD", "rld", "LAT", "Lateral", "LEFT LATERAL", "LEFT_LATERAL",
                "L LAT", "R LAT", "CHEST LAT", "X-TABLE LAT", "XTABLE LATERAL", "CROSS-TABLE LATERAL", "LAT DECUB",
                " lat "}) {
            assertThat(ViewPositions.isLateral(v)).as(v).isTrue();
        }
    }

    @Test
    void frontalViewsAreNot() {
        for (String v : new String[] {"PA", "AP", "AP SUPINE", "AP ERECT", "PA ERECT", "AP FLAT", "", "  "}) {
            assertThat(ViewPositions.isLateral(v)).as(v).isFalse();
        }
        assertThat(ViewPositions.isLateral(null)).isFalse();
    }
}
