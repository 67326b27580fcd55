package org.cxrtriage.model;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import java.util.List;

/**
 * Builds the classifier: ResNet backbone, global average pooling, and the paper's 3-layer decision head
 * {@code Linear(512) -> ReLU -> Dropout -> Linear(embedding) -> ReLU -> Linear(2)}.
 *
 * <p>The block's output is {@code NDList[logits (N,2), embedding (N,embeddingSize)]}; the embedding is
 * the last hidden layer (after its ReLU), used for kNN / t-SNE. Input is NCHW float32 with 3 channels,
 * see {@link InputEncoder}.
 *
 * <p>The ResNet is built here rather than with DJL's {@code ResNetV1}, whose 18-layer variant is not a
 * standard ResNet18. Layout follows torchvision (v1.5: stride on the 3x3 conv of bottlenecks); the
 * parameter counts match (ResNet18 11,176,512, ResNet34 21,284,672, ResNet50 23,508,032 without fc).
 * Sequential parts free their activations early in inference ({@link LeanSequentialBlock}).
 */
public final class CxrNetworkFactory {
    public static final int DEFAULT_EMBEDDING_SIZE = 128;
    public static final int HIDDEN_SIZE = 512;
    public static final float DEFAULT_DROPOUT = 0.5f;
    public static final int NUM_CLASSES = 2;
    /** Positions in the block's output NDList. */
    public static final int LOGITS = 0;
    public static final int EMBEDDING = 1;
    /** Class index of COVID-19 positive in the logits. */
    public static final int POSITIVE_CLASS = 1;

    /** DJL's default, stated so that {@link BatchNormFolding} folds with the same value the network divides by. */
    static final float BATCH_NORM_EPSILON = 1e-5f;

    private static final int[] STAGE_WIDTHS = {64, 128, 256, 512};
    private static final int BOTTLENECK_EXPANSION = 4;

    private CxrNetworkFactory() {}

    public static Block build(Backbone backbone) {
        return build(backbone, DEFAULT_EMBEDDING_SIZE);
    }

    public static Block build(Backbone backbone, int embeddingSize) {
        return build(backbone, embeddingSize, DEFAULT_DROPOUT);
    }

    /** Dropout only acts in training mode and has no weights, so it does not affect saved models. */
    public static Block build(Backbone backbone, int embeddingSize, float dropout) {
        return build(backbone, embeddingSize, dropout, false);
    }

    /**
     * The inference form of {@link #build(Backbone, int)}: every BatchNorm folded into the convolution before it
     * (which then has a bias), so a forward pass runs about 20 fewer operations over the activations. Same outputs
     * as the trained network once {@link BatchNormFolding#fold} has filled its weights; not trainable.
     */
    public static Block buildFolded(Backbone backbone, int embeddingSize) {
        return build(backbone, embeddingSize, DEFAULT_DROPOUT, true);
    }

    private static Block build(Backbone backbone, int embeddingSize, float dropout, boolean folded) {
        if (embeddingSize <= 0) {
            throw new IllegalArgumentException("embeddingSize must be > 0, got " + embeddingSize);
        }
        return new LeanSequentialBlock()
                .add(backbone(backbone, folded))
                .add(Pool.globalAvgPool2dBlock())
                .add(Blocks.batchFlattenBlock())
                .add(head(embeddingSize, dropout));
    }

    /** The feature extractor alone: (N,3,H,W) -> (N, featureSize, H/32, W/32). */
    public static SequentialBlock backbone(Backbone backbone) {
        return backbone(backbone, false);
    }

    private static SequentialBlock backbone(Backbone backbone, boolean folded) {
        SequentialBlock net = new LeanSequentialBlock();
        addConvNorm(net, 64, 7, 2, folded)
                .add(Activation.reluBlock())
                .add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
        int inChannels = 64;
        for (int stage = 0; stage < STAGE_WIDTHS.length; stage++) {
            int width = STAGE_WIDTHS[stage];
            for (int unit = 0; unit < backbone.unitsInStage(stage); unit++) {
                int stride = unit == 0 && stage > 0 ? 2 : 1;
                int outChannels = backbone.bottleneck() ? width * BOTTLENECK_EXPANSION : width;
                Block main = backbone.bottleneck()
                        ? bottleneckBranch(width, outChannels, stride, folded)
                        : basicBranch(width, stride, folded);
                Block shortcut = stride != 1 || inChannels != outChannels
                        ? addConvNorm(new LeanSequentialBlock(), outChannels, 1, stride, folded)
                        : Blocks.identityBlock();
                net.add(residual(main, shortcut));
                inChannels = outChannels;
            }
        }
        return net;
    }

    private static Block head(int embeddingSize, float dropout) {
        // The last hidden layer is passed through untouched next to the logits so one forward gives both.
        Block outputs = new LeanParallelBlock(
                branches -> new NDList(branches.get(0).singletonOrThrow(), branches.get(1).singletonOrThrow()),
                List.of(Linear.builder().setUnits(NUM_CLASSES).build(), Blocks.identityBlock()));
        return new LeanSequentialBlock()
                .add(Linear.builder().setUnits(HIDDEN_SIZE).build())
                .add(Activation.reluBlock())
                .add(Dropout.builder().optRate(dropout).build())
                .add(Linear.builder().setUnits(embeddingSize).build())
                .add(Activation.reluBlock())
                .add(outputs);
    }

    private static Block basicBranch(int width, int stride, boolean folded) {
        SequentialBlock branch = new LeanSequentialBlock();
        addConvNorm(branch, width, 3, stride, folded).add(Activation.reluBlock());
        return addConvNorm(branch, width, 3, 1, folded);
    }

    private static Block bottleneckBranch(int width, int outChannels, int stride, boolean folded) {
        SequentialBlock branch = new LeanSequentialBlock();
        addConvNorm(branch, width, 1, 1, folded).add(Activation.reluBlock());
        addConvNorm(branch, width, 3, stride, folded).add(Activation.reluBlock());
        return addConvNorm(branch, outChannels, 1, 1, folded);
    }

    /**
     * Convolution + BatchNorm, or, folded, one convolution with a bias that stands for both. The convolution is
     * bias-free in the trained form because the BatchNorm's shift makes a bias redundant.
     */
    private static SequentialBlock addConvNorm(SequentialBlock to, int filters, int kernel, int stride,
            boolean folded) {
        Conv2d conv = Conv2d.builder()
                .setFilters(filters)
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(kernel / 2, kernel / 2))
                .optBias(folded)
                .build();
        return folded ? to.add(conv) : to.add(conv).add(BatchNorm.builder().optEpsilon(BATCH_NORM_EPSILON).build());
    }

    /** Structure (and so the weights format) must stay as is: models/default was saved with it. */
    private static Block residual(Block main, Block shortcut) {
        return new LeanSequentialBlock()
                .add(new LeanParallelBlock(
                        branches -> new NDList(
                                branches.get(0).singletonOrThrow().add(branches.get(1).singletonOrThrow())),
                        List.of(main, shortcut)))
                .add(Activation.reluBlock());
    }
}
