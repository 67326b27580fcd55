package org.cxrtriage.preprocess;

import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.ImageTensor;

/** Either the tensor of an image or the reason it was rejected; exactly one is set. */
public record PreprocessOutcome(ImageTensor tensor, CxrRejected rejected) {

    public static PreprocessOutcome of(ImageTensor tensor) {
        return new PreprocessOutcome(tensor, null);
    }

    public static PreprocessOutcome of(CxrRejected rejected) {
        return new PreprocessOutcome(null, rejected);
    }

    public boolean ok() {
        return tensor != null;
    }
}
