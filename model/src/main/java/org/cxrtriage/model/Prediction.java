package org.cxrtriage.model;

/**
 * Model output for one input.
 *
 * @param probability softmax p(COVID-19 positive), i.e. of class {@link CxrNetworkFactory#POSITIVE_CLASS}
 * @param embedding last hidden layer of the decision head (after ReLU), used for kNN
 * @param logits the 2 raw class scores [negative, positive]
 */
public record Prediction(float probability, float[] embedding, float[] logits) {
}
