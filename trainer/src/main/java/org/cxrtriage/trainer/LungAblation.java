package org.cxrtriage.trainer;

import org.cxrtriage.model.LungRegion;
import org.cxrtriage.model.ModelInput;

/**
 * A shortcut check: the same images scored with the lungs hidden, and with nothing but the lungs shown. If a
 * model still separates COVID from negative with the lungs hidden, it reads something other than the lungs
 * (source, markers, borders, patient position): the shortcut DeGrave et al. 2021 warn about. A model that reads
 * the lungs loses most of its ROC AUC with them hidden.
 *
 * <p>The two views split each image into the {@link LungRegion} (default margin) and the rest; the X-ray plane is
 * black over the hidden part. The lung plane is kept in both, as the model always sees it: it carries the lungs'
 * outline, not their content.
 */
enum LungAblation {
    LUNGS_HIDDEN("lungsHidden", "the X-ray plane is black over the lung region"),
    LUNGS_ONLY("lungsOnly", "the X-ray plane is black outside the lung region");

    final String id;
    final String description;

    LungAblation(String id, String description) {
        this.id = id;
        this.description = description;
    }

    ModelInput apply(ModelInput input) {
        return LungRegion.blackOut(input, LungRegion.of(input), this == LUNGS_HIDDEN);
    }
}
