package org.cxrtriage.similarity;

/**
 * When a scored image should alert infection control: its probability reaches the threshold (the model's own
 * threshold unless {@code probabilityThreshold} is set) and, optionally, the similar prior cases agree (kNN vote at
 * least {@code minKnnVote}; with no neighbours yet, agreement is not required).
 *
 * @param probabilityThreshold NaN = use the threshold the model published with the score
 */
public record AlertPolicy(double probabilityThreshold, boolean requireKnnAgreement, double minKnnVote) {

    public static AlertPolicy modelCall() {
        return new AlertPolicy(Double.NaN, false, 0.5);
    }

    public boolean shouldAlert(float probability, float modelThreshold, float knnVote, int neighbourCount) {
        float threshold = Double.isNaN(probabilityThreshold) ? modelThreshold : (float) probabilityThreshold;
        if (probability < threshold) {
            return false;
        }
        return !requireKnnAgreement || neighbourCount == 0 || knnVote >= minKnnVote;
    }

    /** Whether the decision can change with the stored cases (an image replayed may decide otherwise). */
    public boolean dependsOnNeighbours() {
        return requireKnnAgreement;
    }

    public String describe() {
        String t = Double.isNaN(probabilityThreshold) ? "model threshold" : String.valueOf(probabilityThreshold);
        return "probability >= " + t + (requireKnnAgreement ? " and kNN vote >= " + minKnnVote : "");
    }
}
