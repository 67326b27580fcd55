package org.cxrtriage.model;

import ai.djl.Device;
import ai.djl.inference.Predictor;
import ai.djl.translate.TranslateException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the classifier on batches of {@link ModelInput}s in inference mode.
 *
 * <p><b>Not thread-safe:</b> create one per worker thread from a shared {@link LoadedModel} (the DJL
 * {@code Predictor} and the staging buffer are per instance). Every forward pass uses exactly
 * {@code batchSize} rows; inputs are split into chunks of {@code batchSize} and the last chunk is padded.
 * Each call's tensors live in a per-call sub-manager that is closed afterwards, so native memory stays flat.
 *
 * <p>Prefer {@code batchSize >= 2} on CPU: for batch-1 convolutions libtorch 2.7 probes NNPACK and, on CPUs
 * it does not support (like this VM's), prints a warning to stderr for every conv of every forward pass.
 */
public final class CxrPredictor implements AutoCloseable {
    private final Predictor<List<ModelInput>, List<Prediction>> predictor;
    private final ModelMetadata metadata;
    private final Device device;
    private final int batchSize;

    public CxrPredictor(LoadedModel model, int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be > 0, got " + batchSize);
        }
        this.metadata = model.metadata();
        this.device = model.device();
        this.batchSize = batchSize;
        this.predictor = model.model().newPredictor(new CxrTranslator(batchSize, metadata.inputSize()), device);
    }

    /** Predictions in input order; any number of inputs, any plane size (resized to the model's input size). */
    public List<Prediction> predict(List<ModelInput> inputs) {
        List<Prediction> out = new ArrayList<>(inputs.size());
        for (int from = 0; from < inputs.size(); from += batchSize) {
            List<ModelInput> chunk = inputs.subList(from, Math.min(from + batchSize, inputs.size()));
            try {
                out.addAll(predictor.predict(chunk));
            } catch (TranslateException e) {
                throw new InferenceException("forward pass failed for " + metadata.name() + ":" + metadata.version()
                        + " (batch " + batchSize + " @" + metadata.inputSize() + " on " + device + ")", e);
            }
        }
        return out;
    }

    public Prediction predict(ModelInput input) {
        return predict(List.of(input)).get(0);
    }

    /** One dummy batch, so the first real request does not pay for allocator/kernel warm-up. */
    public void warmUp() {
        int size = metadata.inputSize();
        byte[] blank = new byte[size * size];
        ModelInput dummy = new ModelInput(size, blank, blank);
        predict(List.of(dummy));
    }

    public Device device() {
        return device;
    }

    public int batchSize() {
        return batchSize;
    }

    public ModelMetadata metadata() {
        return metadata;
    }

    @Override
    public void close() {
        predictor.close();
    }
}
