package org.cxrtriage.similarity;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AlertPolicyTest {

    @Test
    void byDefaultFollowsTheModelsOwnThreshold() {
        AlertPolicy p = AlertPolicy.modelCall();
        assertThat(p.shouldAlert(0.7f, 0.6f, Float.NaN, 0)).isTrue();
        assertThat(p.shouldAlert(0.5f, 0.6f, 1f, 4)).isFalse();
    }

    @Test
    void aConfiguredThresholdOverridesTheModels() {
        AlertPolicy p = new AlertPolicy(0.9, false, 0.5);
        assertThat(p.shouldAlert(0.8f, 0.5f, 1f, 4)).isFalse();
        assertThat(p.shouldAlert(0.95f, 0.5f, 0f, 4)).isTrue();
    }

    @Test
    void knnAgreementIsRequiredOnlyWhenThereAreNeighbours() {
        AlertPolicy p = new AlertPolicy(0.5, true, 0.5);
        assertThat(p.shouldAlert(0.9f, 0.5f, 0.25f, 4)).isFalse();
        assertThat(p.shouldAlert(0.9f, 0.5f, 0.75f, 4)).isTrue();
        assertThat(p.shouldAlert(0.9f, 0.5f, Float.NaN, 0)).isTrue();
    }
}
