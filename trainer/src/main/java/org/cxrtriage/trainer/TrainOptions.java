package org.cxrtriage.trainer;

import org.cxrtriage.model.Backbone;
import org.cxrtriage.model.InputView;

/**
 * Everything that determines a training run.
 *
 * @param tensorSize side of the preprocessed planes (the streaming service's PREPROCESS_TENSOR_SIZE); the
 *     model input is resized from it by {@link org.cxrtriage.model.InputEncoder}, exactly as at inference
 * @param inputSize model input side (training and inference)
 * @param lrDecay learning rate multiplier per epoch (applied smoothly per step)
 * @param patience epochs without a better validation ROC AUC before stopping
 * @param balance how training images are sampled: {@code label} (each class half the draws) or
 *     {@code source} (additionally, within a class each source gets mass ∝ sqrt(its count), which
 *     up-weights the small sources, e.g. ieee8023 negatives)
 * @param minSensitivity threshold rule: the highest validation threshold reaching this sensitivity; a
 *     value <= 0 selects Youden's J instead
 * @param augmentStrength multiplier of the augmentation ranges ({@link Augmenter#scaled}); 1 = the defaults
 * @param emaDecay weight-average decay ({@link WeightAverage}): validation, checkpoints and the saved model use the
 *     averaged weights; 0 = off (the raw weights)
 * @param maxStepsPerEpoch cap for quick runs (0 = one pass worth of draws)
 * @param maxMinutes wall-clock budget: no new epoch is started if it would likely end past it (0 = none)
 * @param refitThreshold NaN for a normal run; otherwise a refit: train on train + validation for exactly
 *     {@code epochs} epochs (no validation, early stopping or checkpoint selection: the last epoch's weights ship)
 *     with this decision threshold, carried from the validation-selected run whose recipe and epoch count it repeats
 * @param inputView what of the X-ray the model sees, in training (after augmentation) and wherever it runs
 */
public record TrainOptions(
        Backbone backbone, int embeddingSize, int tensorSize, int inputSize,
        int batchSize, int epochs, float learningRate, float lrDecay, float weightDecay, int patience,
        String balance, boolean augment, double augmentStrength, double emaDecay, double minSensitivity, long seed, int logEvery, int maxStepsPerEpoch, double maxMinutes,
        int threads, String name, String version, double refitThreshold, InputView inputView) {

    public boolean refit() {
        return !Double.isNaN(refitThreshold);
    }
}
