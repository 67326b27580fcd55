package org.cxrtriage.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PseudonymiserTest {

    @Test
    void sameIdAndKeyGiveTheSameReferenceWithoutRevealingTheId() {
        Pseudonymiser p = new Pseudonymiser("0123456789abcdef-secret");
        String ref = p.patientRef("MRN-12345");
        assertThat(ref).isEqualTo(p.patientRef(" MRN-12345 ")).startsWith("p-").hasSize(34).doesNotContain("12345");
        assertThat(p.patientRef("MRN-12346")).isNotEqualTo(ref);
    }

    @Test
    void anotherKeyGivesAnotherReference() {
        assertThat(new Pseudonymiser("key-one-0123456789").patientRef("42"))
                .isNotEqualTo(new Pseudonymiser("key-two-0123456789").patientRef("42"));
    }

    @Test
    void refusesShortKeysAndEmptyIds() {
        assertThatThrownBy(() -> new Pseudonymiser("short")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Pseudonymiser("0123456789abcdef").patientRef(" "))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void thereIsNoDefaultKey() {
        assertThatThrownBy(() -> Pseudonymiser.fromSettings(Settings.of(java.util.Map.of())))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("PSEUDONYM_KEY is not set");
        assertThat(Pseudonymiser.fromSettings(Settings.of(java.util.Map.of(Pseudonymiser.KEY_SETTING,
                "a-key-of-sixteen-or-more"))).patientRef("p")).startsWith("p-");
    }
}
