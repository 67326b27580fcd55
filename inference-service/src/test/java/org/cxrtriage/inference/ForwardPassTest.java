package org.cxrtriage.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.Prediction;
import org.junit.jupiter.api.Test;

class ForwardPassTest {

    private static ModelInput input(int marker) {
        byte[] plane = new byte[4];
        plane[0] = (byte) marker;
        return new ModelInput(2, plane, new byte[4]);
    }

    private static Prediction prediction(ModelInput in) {
        return new Prediction(in.cxr()[0] / 10f, new float[] {in.cxr()[0]}, new float[] {0, 0});
    }

    @Test
    void aBatchTheModelRunsIsScoredInOnePass() {
        List<Integer> passSizes = new ArrayList<>();
        ForwardPass.Outcome o = ForwardPass.run(List.of(input(1), input(2), input(3)), batch -> {
            passSizes.add(batch.size());
            return batch.stream().map(ForwardPassTest::prediction).toList();
        });

        assertThat(passSizes).containsExactly(3);
        assertThat(o.batchSize()).isEqualTo(3);
        assertThat(o.predictions()).extracting(Prediction::probability).containsExactly(0.1f, 0.2f, 0.3f);
        assertThat(o.failures()).containsOnlyNulls();
    }

    @Test
    void whenTheBatchFailsEachImageIsTriedAloneAndOnlyTheOneThatFailsAloneIsLost() {
        List<Integer> passSizes = new ArrayList<>();
        ForwardPass.Outcome o = ForwardPass.run(List.of(input(1), input(2), input(3)), batch -> {
            passSizes.add(batch.size());
            if (batch.stream().anyMatch(in -> in.cxr()[0] == 2)) {
                throw new IllegalStateException("the model cannot run image 2");
            }
            return batch.stream().map(ForwardPassTest::prediction).toList();
        });

        assertThat(passSizes).containsExactly(3, 1, 1, 1);
        assertThat(o.batchSize()).isEqualTo(1);
        assertThat(o.predictions().get(0).probability()).isEqualTo(0.1f);
        assertThat(o.predictions().get(1)).isNull();
        assertThat(o.predictions().get(2).probability()).isEqualTo(0.3f);
        assertThat(o.failures().get(1)).hasMessage("the model cannot run image 2");
        assertThat(o.failures().get(0)).isNull();
    }

    @Test
    void aPassingFailureOfTheBatchCostsNoImage() {
        int[] calls = {0};
        ForwardPass.Outcome o = ForwardPass.run(List.of(input(1), input(2)), batch -> {
            if (calls[0]++ == 0) {
                throw new IllegalStateException("std::bad_alloc");
            }
            return batch.stream().map(ForwardPassTest::prediction).toList();
        });

        assertThat(o.predictions()).extracting(Prediction::probability).containsExactly(0.1f, 0.2f);
        assertThat(o.failures()).containsOnlyNulls();
    }
}
