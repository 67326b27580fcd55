package org.cxrtriage.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.training.loss.Loss;

/**
 * Binary cross-entropy on logits (numerically stable form) plus soft Dice loss, for (N, 1, H, W) lung logits
 * against (N, 1, H, W) targets in [0, 1]. BCE trains every pixel; Dice weighs the lungs against the background
 * whatever their area. Soft Dice is per image, then averaged, with smoothing 1.
 */
final class BceDiceLoss extends Loss {
    BceDiceLoss() {
        super("bce+dice");
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray logits = predictions.singletonOrThrow();
        NDArray y = labels.singletonOrThrow();
        // max(x, 0) - x y + log(1 + exp(-|x|))
        NDArray bce = logits.maximum(0f).sub(logits.mul(y)).add(logits.abs().neg().exp().add(1f).log()).mean();
        return bce.add(softDice(Activation.sigmoid(logits), y).neg().add(1f).mean());
    }

    /** Per-image soft Dice, shape (N). */
    static NDArray softDice(NDArray probability, NDArray target) {
        int[] axes = {1, 2, 3};
        NDArray intersection = probability.mul(target).sum(axes);
        NDArray total = probability.sum(axes).add(target.sum(axes));
        return intersection.mul(2f).add(1f).div(total.add(1f));
    }
}
