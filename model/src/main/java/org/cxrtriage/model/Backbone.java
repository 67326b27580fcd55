package org.cxrtriage.model;

/** Standard ImageNet ResNets (He et al. 2016), torchvision layout, without the ImageNet fc. */
public enum Backbone {
    RESNET18(new int[] {2, 2, 2, 2}, false),
    RESNET34(new int[] {3, 4, 6, 3}, false),
    RESNET50(new int[] {3, 4, 6, 3}, true);

    private final int[] unitsPerStage;
    private final boolean bottleneck;

    Backbone(int[] unitsPerStage, boolean bottleneck) {
        this.unitsPerStage = unitsPerStage;
        this.bottleneck = bottleneck;
    }

    /** Residual units in each of the 4 stages. */
    public int unitsInStage(int stage) {
        return unitsPerStage[stage];
    }

    /** Bottleneck (1x1-3x3-1x1, expansion 4) units rather than basic (3x3-3x3) units. */
    public boolean bottleneck() {
        return bottleneck;
    }

    /** Channels of the last feature map, i.e. the size of the pooled feature vector. */
    public int featureSize() {
        return bottleneck ? 2048 : 512;
    }
}
