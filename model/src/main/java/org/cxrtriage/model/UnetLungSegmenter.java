package org.cxrtriage.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.file.Path;
import org.cxrtriage.imaging.GrayImage;
import org.cxrtriage.imaging.LungMap;
import org.cxrtriage.imaging.LungSegmenter;
import org.cxrtriage.imaging.Resize;

/**
 * The lung channel from the trained {@link LungUnet}: the preprocessed CXR plane in, a lung-probability plane of
 * the same size out. Planes of another size than the network's {@code inputSize} are resized bilinearly to it
 * and the probabilities back.
 *
 * <p><b>Thread-safe</b>: the weights are frozen and shared read-only, every call runs in its own
 * {@link NDManager} (closed before returning). Each call is one forward pass at batch 1 on the calling thread, with
 * the segmenter's own intra-op thread count when it has one ({@link #withIntraOpThreads}), else with the count in
 * force on that thread. Close the segmenter to free the weights.
 */
public final class UnetLungSegmenter implements LungSegmenter, AutoCloseable {
    private final LungModelDirectory.Loaded loaded;
    private final int inputSize;
    private final String version;
    private volatile int intraOpThreads;

    public UnetLungSegmenter(LungModelDirectory.Loaded loaded) {
        this.loaded = loaded;
        this.inputSize = loaded.metadata().inputSize();
        this.version = "unet-lungs:" + loaded.metadata().id();
    }

    /**
     * Runs every forward pass with {@code threads} PyTorch intra-op threads on the calling thread (0: the count in
     * force there). The preprocess service gives each stream thread one, whatever the process's other users set.
     */
    public UnetLungSegmenter withIntraOpThreads(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }
        this.intraOpThreads = threads;
        return this;
    }

    /**
     * Loads {@code dir} on {@link TorchRuntime#defaultDevice()}: on a GPU one plane takes about 1.2 ms instead of
     * about 20 ms on a CPU core (bench/gpu), and preprocessing is the pipeline's slower stage.
     */
    public static UnetLungSegmenter load(Path dir) throws IOException {
        return new UnetLungSegmenter(LungModelDirectory.load(dir, TorchRuntime.defaultDevice()));
    }

    public LungModelMetadata metadata() {
        return loaded.metadata();
    }

    /** e.g. {@code unet-lungs:cxr-lung-unet:1.0.0}. */
    @Override
    public String version() {
        return version;
    }

    @Override
    public LungMap segment(byte[] cxr, int size) {
        if (cxr == null || size <= 0 || cxr.length != size * size) {
            throw new IllegalArgumentException("cxr must hold size² samples (size=" + size + ")");
        }
        float[] input;
        if (size == inputSize) {
            input = new float[cxr.length];
            for (int i = 0; i < input.length; i++) {
                input[i] = (cxr[i] & 0xFF) / 255f;
            }
        } else {
            input = Resize.square(GrayImage.fromUint8(size, size, cxr), inputSize).pixels();
        }
        float[] probability = probabilities(input);
        byte[] out;
        if (size == inputSize) {
            out = toUint8(probability);
        } else {
            out = Resize.square(new GrayImage(inputSize, inputSize, probability), size).toUint8();
        }
        return new LungMap(out, LungMap.areaFraction(out));
    }

    /** Lung probabilities for one {@code inputSize²} plane of [0, 1] samples. */
    float[] probabilities(float[] plane) {
        if (intraOpThreads > 0) {
            TorchRuntime.useIntraOpThreadsOnThisThread(intraOpThreads);
        }
        try (NDManager m = loaded.model().getNDManager().newSubManager()) {
            NDArray x = m.create(plane, LungModelDirectory.inputShape(1, inputSize));
            NDList out = loaded.model().getBlock().forward(new ParameterStore(m, false), new NDList(x), false);
            return Activation.sigmoid(out.singletonOrThrow()).toFloatArray();
        }
    }

    static byte[] toUint8(float[] probability) {
        byte[] out = new byte[probability.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Math.round(Math.max(0f, Math.min(1f, probability[i])) * 255f);
        }
        return out;
    }

    @Override
    public void close() {
        loaded.close();
    }
}
