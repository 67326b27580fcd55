package org.cxrtriage.model;

/**
 * What of the preprocessed X-ray the classifier sees; a model's {@code inputView} in model.json, applied
 * wherever its input is encoded (training, evaluation, the inference service).
 */
public enum InputView {
    /** The whole X-ray plane: the paper's input. */
    FULL,
    /**
     * The X-ray plane black outside the {@link LungRegion} (default margin): the model cannot read what lies outside
     * the lungs (markers, borders, the body, a collection's look), the shortcuts of source-confounded data.
     */
    LUNGS_ONLY;

    public ModelInput apply(ModelInput input) {
        return this == FULL ? input : LungRegion.blackOut(input, LungRegion.of(input), false);
    }
}
