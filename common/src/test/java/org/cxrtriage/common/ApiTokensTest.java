package org.cxrtriage.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ApiTokensTest {

    @Test
    void bindsEachTokenToItsSite() {
        ApiTokens t = ApiTokens.fromSettings(Settings.of(Map.of(ApiTokens.TOKENS,
                "north-token-0123456789=ED-NORTH, admin-token-0123456789=*")));
        assertThat(t.siteOf("north-token-0123456789")).contains("ED-NORTH");
        assertThat(t.siteOf("admin-token-0123456789")).contains("*");
        assertThat(t.siteOf("north-token-012345678")).isEmpty();
        assertThat(t.siteOf(null)).isEmpty();
    }

    @Test
    void refusesToRunWithoutTokensUnlessAuthIsExplicitlyOff() {
        assertThatThrownBy(() -> ApiTokens.fromSettings(Settings.of(Map.of())))
                .hasMessageContaining(ApiTokens.TOKENS);
        ApiTokens.fromSettings(Settings.of(Map.of(ApiTokens.AUTH, "off")));
    }

    @Test
    void refusesShortTokens() {
        assertThatThrownBy(() -> ApiTokens.fromSettings(Settings.of(Map.of(ApiTokens.TOKENS, "short=*"))))
                .hasMessageContaining("16");
    }

    @Test
    void labelsATokenBySiteAndFingerprintWithoutRevealingIt() {
        String label = ApiTokens.label("ED-NORTH", "north-token-0123456789");
        assertThat(label).matches("token:ED-NORTH:[0-9a-f]{8}").doesNotContain("north-token");
        assertThat(ApiTokens.label("ED-NORTH", "north-token-0123456789")).isEqualTo(label);
        assertThat(ApiTokens.label("ED-NORTH", "other-token-0123456789")).isNotEqualTo(label);
    }
}
