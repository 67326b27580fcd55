package org.cxrtriage.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * The lung-segmentation U-Net (Ronneberger et al. 2015, as used by Goldstein et al. 2020 for the lung channel),
 * small enough for one CPU core.
 *
 * <p>Input {@code (N, 1, S, S)} float32, the preprocessed CXR plane scaled to [0, 1] ({@code S} divisible by
 * {@code 2^(levels-1)}); output {@code (N, 1, S, S)} lung <b>logits</b> (apply a sigmoid for probabilities).
 * Encoder level {@code l} has {@code baseWidth × 2^l} channels, two 3×3 conv + BatchNorm + ReLU, then 2×2 max
 * pooling; the last level is the bottleneck. The decoder upsamples with a 1×1 convolution followed by 2× nearest
 * neighbour repetition (equivalent to a 2×2 stride-2 transposed convolution with one kernel value per channel pair;
 * DJL's PyTorch engine does not implement deconvolution), concatenates the encoder's skip features and applies two 3×3 conv + BatchNorm + ReLU; a 1×1 convolution gives
 * the logit. The block layout defines the weights format: change it only together with a new model version.
 */
public final class LungUnet extends AbstractBlock {
    private static final byte VERSION = 1;

    private final int levels;
    private final List<Block> encoders = new ArrayList<>();
    private final List<Block> ups = new ArrayList<>();
    private final List<Block> decoders = new ArrayList<>();
    private final Block pool;
    private final Block head;

    /**
     * @param baseWidth channels of the first level (e.g. 8 or 16)
     * @param levels    resolution levels including the bottleneck (e.g. 5: four poolings)
     */
    public LungUnet(int baseWidth, int levels) {
        super(VERSION);
        if (baseWidth < 1 || levels < 2) {
            throw new IllegalArgumentException("baseWidth must be >= 1 and levels >= 2, got " + baseWidth + "/" + levels);
        }
        this.levels = levels;
        for (int l = 0; l < levels; l++) {
            encoders.add(addChildBlock("enc" + l, doubleConv(baseWidth << l)));
        }
        for (int l = levels - 2; l >= 0; l--) {
            ups.add(addChildBlock("up" + l, Conv2d.builder()
                    .setFilters(baseWidth << l)
                    .setKernelShape(new Shape(1, 1))
                    .build()));
            decoders.add(addChildBlock("dec" + l, doubleConv(baseWidth << l)));
        }
        head = addChildBlock("head", Conv2d.builder().setFilters(1).setKernelShape(new Shape(1, 1)).build());
        pool = Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2));
    }

    /** Side lengths must be divisible by this. */
    public int sizeMultiple() {
        return 1 << (levels - 1);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
            PairList<String, Object> params) {
        List<NDArray> skips = new ArrayList<>(levels - 1);
        NDArray x = inputs.singletonOrThrow();
        for (int l = 0; l < levels; l++) {
            NDArray features = encoders.get(l).forward(ps, new NDList(x), training, params).singletonOrThrow();
            if (l > 0 && !training) {
                x.close(); // pooled input of this level, no longer needed in inference
            }
            if (l < levels - 1) {
                skips.add(features);
                x = pool.forward(ps, new NDList(features), training, params).singletonOrThrow();
            } else {
                x = features;
            }
        }
        for (int i = 0; i < levels - 1; i++) {
            NDArray skip = skips.get(levels - 2 - i);
            NDArray reduced = ups.get(i).forward(ps, new NDList(x), training, params).singletonOrThrow();
            NDArray wide = reduced.repeat(3, 2);
            NDArray up = wide.repeat(2, 2);
            if (!training) {
                reduced.close();
                wide.close();
            }
            NDArray joined = NDArrays.concat(new NDList(skip, up), 1);
            NDArray out = decoders.get(i).forward(ps, new NDList(joined), training, params).singletonOrThrow();
            if (!training) {
                x.close();
                up.close();
                skip.close();
                joined.close();
            }
            x = out;
        }
        NDArray logits = head.forward(ps, new NDList(x), training, params).singletonOrThrow();
        if (!training) {
            x.close();
        }
        return new NDList(logits);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {new Shape(in.get(0), 1, in.get(2), in.get(3))};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape s = inputShapes[0];
        if (s.get(2) % sizeMultiple() != 0 || s.get(3) % sizeMultiple() != 0) {
            throw new IllegalArgumentException("input sides must be divisible by " + sizeMultiple() + ": " + s);
        }
        List<Shape> skipShapes = new ArrayList<>();
        for (int l = 0; l < levels; l++) {
            s = init(encoders.get(l), manager, dataType, s);
            if (l < levels - 1) {
                skipShapes.add(s);
                s = new Shape(s.get(0), s.get(1), s.get(2) / 2, s.get(3) / 2);
            }
        }
        for (int i = 0; i < levels - 1; i++) {
            Shape skip = skipShapes.get(levels - 2 - i);
            Shape up = init(ups.get(i), manager, dataType, s); // then repeated 2x along H and W
            s = init(decoders.get(i), manager, dataType,
                    new Shape(skip.get(0), skip.get(1) + up.get(1), skip.get(2), skip.get(3)));
        }
        init(head, manager, dataType, s);
    }

    private static Shape init(Block block, NDManager manager, DataType dataType, Shape in) {
        block.initialize(manager, dataType, in);
        return block.getOutputShapes(new Shape[] {in})[0];
    }

    /** conv3x3 → BN → ReLU, twice; convolutions are bias-free because a BatchNorm follows. */
    private static Block doubleConv(int filters) {
        SequentialBlock b = new LeanSequentialBlock();
        for (int i = 0; i < 2; i++) {
            b.add(Conv2d.builder()
                            .setFilters(filters)
                            .setKernelShape(new Shape(3, 3))
                            .optPadding(new Shape(1, 1))
                            .optBias(false)
                            .build())
                    .add(BatchNorm.builder().build())
                    .add(Activation.reluBlock());
        }
        return b;
    }
}
