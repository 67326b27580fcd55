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
 * {@code Predictor}s and their staging buffers are per instance). Inputs are split into chunks of {@code batchSize};
 * each chunk runs at the smallest of a few fixed batch shapes that holds it (powers of two below {@code batchSize},
 * and {@code batchSize}), padded with zero rows. Fixed shapes, all run once by {@link #warmUp()}, keep a GPU from
 * re-planning; having more than one keeps a lone image at low load from paying for a full batch (on 2 CPU cores a
 * batch of 4 takes about twice as long as a batch of 1). Each call's tensors live in a per-call sub-manager that is
 * closed afterwards, so native memory stays flat.
 *
 * <p>At tiny input sizes (unit tests) libtorch may probe NNPACK for batch-1 convolutions and, on CPUs it does not
 * support, print a warning per convolution; at the shipped model's 128 px it picks oneDNN and prints nothing.
 */
public final class CxrPredictor implements AutoCloseable {
    private final int[] shapes;
    private final List<Predictor<List<ModelInput>, List<Prediction>>> predictors = new ArrayList<>();
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
        this.shapes = batchShapes(batchSize);
        for (int shape : shapes) {
            predictors.add(model.model().newPredictor(new CxrTranslator(shape, metadata.inputSize(),
                    metadata.inputView()), device));
        }
    }

    /** The batch shapes a predictor of {@code batchSize} runs: 1, 2, 4, ... below it, then {@code batchSize}. */
    static int[] batchShapes(int batchSize) {
        return java.util.stream.IntStream.concat(
                java.util.stream.IntStream.iterate(1, n -> n < batchSize, n -> n * 2),
                java.util.stream.IntStream.of(batchSize)).toArray();
    }

    /** Index into {@link #shapes} of the smallest batch shape that holds {@code count} inputs. */
    private int shapeIndex(int count) {
        int shape = 0;
        while (shapes[shape] < count) {
            shape++;
        }
        return shape;
    }

    /** The batch shape a forward pass over {@code count} inputs (at most {@code batchSize}) runs at. */
    int shapeFor(int count) {
        return shapes[shapeIndex(count)];
    }

    /** Predictions in input order; any number of inputs, any plane size (resized to the model's input size). */
    public List<Prediction> predict(List<ModelInput> inputs) {
        List<Prediction> out = new ArrayList<>(inputs.size());
        for (int from = 0; from < inputs.size(); from += batchSize) {
            List<ModelInput> chunk = inputs.subList(from, Math.min(from + batchSize, inputs.size()));
            int shape = shapeIndex(chunk.size());
            try {
                out.addAll(predictors.get(shape).predict(chunk));
            } catch (TranslateException e) {
                throw new InferenceException("forward pass failed for " + metadata.name() + ":" + metadata.version()
                        + " (batch " + shapes[shape] + " @" + metadata.inputSize() + " on " + device + ")", e);
            }
        }
        return out;
    }

    public Prediction predict(ModelInput input) {
        return predict(List.of(input)).get(0);
    }

    /** One dummy batch of each shape, so the first real request does not pay for allocator/kernel warm-up. */
    public void warmUp() {
        int size = metadata.inputSize();
        byte[] blank = new byte[size * size];
        ModelInput dummy = new ModelInput(size, blank, blank);
        for (int shape : shapes) {
            predict(java.util.Collections.nCopies(shape, dummy));
        }
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
        predictors.forEach(Predictor::close);
    }
}
