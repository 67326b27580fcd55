package org.cxrtriage.inference;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.Prediction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One batch through the model. When the batch's forward pass fails, each image is run again alone: one image the
 * model cannot run then costs only its own score, not its batch-mates', and a passing failure (memory pressure from a
 * neighbour on the host) gets a second try before any image is rejected.
 */
final class ForwardPass {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardPass.class);

    /**
     * Per input, in order: its prediction, or (where even the image alone failed) null with the failure beside it.
     * {@code batchSize} is the size of the forward pass the predictions came from (1 after a fallback).
     */
    record Outcome(List<Prediction> predictions, List<RuntimeException> failures, int batchSize) {
    }

    private ForwardPass() {
    }

    static Outcome run(List<ModelInput> inputs, Function<List<ModelInput>, List<Prediction>> model) {
        try {
            return new Outcome(model.apply(inputs), Collections.nCopies(inputs.size(), null), inputs.size());
        } catch (RuntimeException batchFailure) {
            LOG.error("forward pass failed for a batch of {} ({}); scoring its images one at a time", inputs.size(),
                    batchFailure.toString());
        }
        List<Prediction> predictions = new ArrayList<>();
        List<RuntimeException> failures = new ArrayList<>();
        for (ModelInput input : inputs) {
            try {
                predictions.add(model.apply(List.of(input)).get(0));
                failures.add(null);
            } catch (RuntimeException e) {
                LOG.error("forward pass failed for one image alone: {}", e.toString());
                predictions.add(null);
                failures.add(e);
            }
        }
        return new Outcome(predictions, failures, 1);
    }
}
