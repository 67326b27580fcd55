package org.cxrtriage.ingest;

/**
 * What the X-ray machine (or a PACS bridge) says about an image. The raw patient id lives only here, in memory: it
 * is pseudonymised before anything is written.
 */
public record IngestMetadata(String patientId, String studyId, String siteId, String deviceId, String viewPosition,
                             String acquisitionTime) {

    @Override
    public String toString() {
        // Never print the raw patient id.
        return "IngestMetadata[study=" + studyId + ", site=" + siteId + ", view=" + viewPosition + "]";
    }
}
