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
        if (embeddingSize <= 0) {
            throw new IllegalArgumentException("embeddingSize must be > 0, got " + embeddingSize);
        }
        return new LeanSequentialBlock()
                .add(backbone(backbone))
                .add(Pool.globalAvgPool2dBlock())
                .add(Blocks.batchFlattenBlock())
                .add(head(embeddingSize, dropout));
    }

    /** The feature extractor alone: (N,3,H,W) -> (N, featureSize, H/32, W/32). */
    public static SequentialBlock backbone(Backbone backbone) {
        SequentialBlock net = new LeanSequentialBlock()
                .add(conv(64, 7, 2))
                .add(BatchNorm.builder().build())
                .add(Activation.reluBlock())
                .add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
        int inChannels = 64;
        for (int stage = 0; stage < STAGE_WIDTHS.length; stage++) {
            int width = STAGE_WIDTHS[stage];
            for (int unit = 0; unit < backbone.unitsInStage(stage); unit++) {
                int stride = unit == 0 && stage > 0 ? 2 : 1;
                int outChannels = backbone.bottleneck() ? width * BOTTLENECK_EXPANSION : width;
                Block main = backbone.bottleneck()
                        ? bottleneckBranch(width, outChannels, stride)
                        : basicBranch(width, stride);
                Block shortcut = stride != 1 || inChannels != outChannels
                        ? new LeanSequentialBlock()
                                .add(conv(outChannels, 1, stride))
                                .add(BatchNorm.builder().build())
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

    private static Block basicBranch(int width, int stride) {
        return new LeanSequentialBlock()
                .add(conv(width, 3, stride))
                .add(BatchNorm.builder().build())
                .add(Activation.reluBlock())
                .add(conv(width, 3, 1))
                .add(BatchNorm.builder().build());
    }

    private static Block bottleneckBranch(int width, int outChannels, int stride) {
        return new LeanSequentialBlock()
                .add(conv(width, 1, 1))
                .add(BatchNorm.builder().build())
                .add(Activation.reluBlock())
                .add(conv(width, 3, stride))
                .add(BatchNorm.builder().build())
                .add(Activation.reluBlock())
                .add(conv(outChannels, 1, 1))
                .add(BatchNorm.builder().build());
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

    /** Convolutions are bias-free because a BatchNorm always follows. */
    private static Block conv(int filters, int kernel, int stride) {
        return Conv2d.builder()
                .setFilters(filters)
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(kernel / 2, kernel / 2))
                .optBias(false)
                .build();
    }
}
