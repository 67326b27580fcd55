package org.cxrtriage.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import org.cxrtriage.model.CxrNetworkFactory;

/**
 * Softmax cross-entropy on the logits only: the network returns {@code [logits, embedding]} and DJL's loss
 * expects a single output, so this picks output {@link CxrNetworkFactory#LOGITS} and delegates.
 */
final class LogitsLoss extends Loss {
    private final SoftmaxCrossEntropyLoss delegate;

    LogitsLoss() {
        super("SoftmaxCrossEntropyLoss");
        this.delegate = new SoftmaxCrossEntropyLoss("SoftmaxCrossEntropyLoss");
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        return delegate.evaluate(labels, new NDList(predictions.get(CxrNetworkFactory.LOGITS)));
    }
}
