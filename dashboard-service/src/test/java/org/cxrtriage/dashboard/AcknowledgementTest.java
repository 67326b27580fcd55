package org.cxrtriage.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AcknowledgementTest {

    @Test
    void aNoteIsOptionalAndStripped() {
        assertThat(Acknowledgement.cleanNote(null)).isNull();
        assertThat(Acknowledgement.cleanNote("")).isNull();
        assertThat(Acknowledgement.cleanNote("   ")).isNull();
        assertThat(Acknowledgement.cleanNote("  moved to bay 3 ")).isEqualTo("moved to bay 3");
        assertThat(Acknowledgement.cleanNote("line one\nline two")).isEqualTo("line one\nline two");
        assertThat(Acknowledgement.cleanNote("Isolierung – Zimmer 4 ✓")).isEqualTo("Isolierung – Zimmer 4 ✓");
        assertThat(Acknowledgement.cleanNote("x".repeat(Acknowledgement.MAX_NOTE))).hasSize(Acknowledgement.MAX_NOTE);
    }

    @Test
    void tooLongNotesAndControlCharactersAreRefused() {
        assertThatThrownBy(() -> Acknowledgement.cleanNote("x".repeat(Acknowledgement.MAX_NOTE + 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("500");
        assertThatThrownBy(() -> Acknowledgement.cleanNote("bell\u0007")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Acknowledgement.cleanNote("tab\there")).isInstanceOf(IllegalArgumentException.class);
    }
}
