package org.cxrtriage.ingest;

/** The same bytes were accepted before: 409 with the first image's id, which is (or will be) scored. */
public final class DuplicateImage extends IngestRejection {

    private final String firstImageId;

    public DuplicateImage(String firstImageId) {
        super(409, "DUPLICATE_IMAGE", "the same image was already received as " + firstImageId);
        this.firstImageId = firstImageId;
    }

    public String firstImageId() {
        return firstImageId;
    }
}
