package org.cxrtriage.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One fixed-shape batch in, one {@link Prediction} per real input out. Inputs are padded with zero rows up
 * to {@code batchSize} so every forward pass has the same shape (re-planning on shape changes is slow on
 * GPU); padding rows are dropped from the output. Not thread-safe: it reuses one staging array and one direct buffer.
 *
 * <p>The direct buffer is the point: handed a heap buffer, DJL allocates a direct one per call, whose native memory
 * only returns when the garbage collector gets to it, so a worker's resident memory climbed by the input's size
 * (768 KB for 4 × 3 × 128²) per batch between collections.
 */
final class CxrTranslator implements NoBatchifyTranslator<List<ModelInput>, List<Prediction>> {
    private static final String COUNT = "count";

    private final int batchSize;
    private final int size;
    private final InputView view;
    private final float[] staging;
    private final ByteBuffer direct;

    CxrTranslator(int batchSize, int size, InputView view) {
        this.batchSize = batchSize;
        this.size = size;
        this.view = view;
        this.staging = new float[batchSize * InputEncoder.CHANNELS * size * size];
        this.direct = ByteBuffer.allocateDirect(staging.length * Float.BYTES).order(ByteOrder.nativeOrder());
    }

    @Override
    public NDList processInput(TranslatorContext ctx, List<ModelInput> inputs) {
        if (inputs.isEmpty() || inputs.size() > batchSize) {
            throw new IllegalArgumentException("batch needs 1.." + batchSize + " inputs, got " + inputs.size());
        }
        int sample = InputEncoder.CHANNELS * size * size;
        for (int i = 0; i < inputs.size(); i++) {
            InputEncoder.encode(view.apply(inputs.get(i)), size, staging, i * sample);
        }
        Arrays.fill(staging, inputs.size() * sample, staging.length, 0f);
        ctx.setAttachment(COUNT, inputs.size());
        // ctx's manager is a per-call sub-manager that the Predictor closes: native memory stays flat.
        direct.clear();
        direct.asFloatBuffer().put(staging);
        // The previous call's tensor, which may share this memory, was closed with that call's manager.
        return new NDList(ctx.getNDManager().create(direct, ModelDirectory.inputShape(batchSize, size),
                DataType.FLOAT32));
    }

    @Override
    public List<Prediction> processOutput(TranslatorContext ctx, NDList output) {
        int count = (Integer) ctx.getAttachment(COUNT);
        NDArray logits = output.get(CxrNetworkFactory.LOGITS);
        float[] logitValues = logits.toFloatArray();
        float[] probabilities = logits.softmax(1).toFloatArray();
        float[] embeddings = output.get(CxrNetworkFactory.EMBEDDING).toFloatArray();
        int classes = CxrNetworkFactory.NUM_CLASSES;
        int embeddingSize = embeddings.length / batchSize;
        List<Prediction> predictions = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            predictions.add(new Prediction(
                    probabilities[i * classes + CxrNetworkFactory.POSITIVE_CLASS],
                    Arrays.copyOfRange(embeddings, i * embeddingSize, (i + 1) * embeddingSize),
                    Arrays.copyOfRange(logitValues, i * classes, (i + 1) * classes)));
        }
        return predictions;
    }
}
