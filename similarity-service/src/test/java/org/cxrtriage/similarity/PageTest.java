package org.cxrtriage.similarity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PageTest {

    @Test
    void defaultsAndClampsTheLimit() {
        assertThat(Page.parse(null, null)).isEqualTo(new Page(4, 0));
        assertThat(Page.parse("0", "3")).isEqualTo(new Page(1, 3));
        assertThat(Page.parse("5000", "1000")).isEqualTo(new Page(100, 1000));
    }

    @Test
    void refusesAnOffsetThatWouldMakeTheSearchGatherHugeArrays() {
        assertThatThrownBy(() -> Page.parse("4", "1000000000")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("offset must be between 0 and 1000");
        assertThatThrownBy(() -> Page.parse("4", "-1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Page.parse("4", "2147483648")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("whole number");
        assertThatThrownBy(() -> Page.parse("four", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("limit must be a whole number");
    }
}
