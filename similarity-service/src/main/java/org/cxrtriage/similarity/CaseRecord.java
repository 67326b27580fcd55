package org.cxrtriage.similarity;

/**
 * A scored image kept for similarity search.
 *
 * @param confirmedPositive the confirmed outcome (e.g. PCR) when known, else null
 */
public record CaseRecord(String imageId, String patientRef, String siteId, long scoredAtMillis, float probability,
                         boolean predictedPositive, float[] embedding, Boolean confirmedPositive) {

    /** The label the kNN vote uses: confirmed when known, else predicted. */
    public boolean votePositive() {
        return confirmedPositive != null ? confirmedPositive : predictedPositive;
    }

    /** Same case facts apart from the embedding (which never changes for an image). */
    public boolean equalsMetadata(CaseRecord o) {
        return imageId.equals(o.imageId) && patientRef.equals(o.patientRef) && siteId.equals(o.siteId)
                && scoredAtMillis == o.scoredAtMillis && probability == o.probability
                && predictedPositive == o.predictedPositive && java.util.Objects.equals(confirmedPositive,
                o.confirmedPositive);
    }

    public CaseRecord withConfirmed(Boolean positive) {
        return new CaseRecord(imageId, patientRef, siteId, scoredAtMillis, probability, predictedPositive, embedding,
                positive);
    }
}
