package org.cxrtriage.imaging;

/**
 * Why an input image was refused. The codes are stable identifiers: they travel in {@code cxr.rejected}
 * events and dashboards count by them, so only ever add values, never rename or reuse one.
 */
public enum RejectReason {
    /** No bytes at all. */
    EMPTY,
    /** The bytes are not any image format we recognise. */
    NOT_AN_IMAGE,
    /** A recognised image format (GIF, BMP, WebP, JPEG 2000, DICOM, ...) that this pipeline does not decode. */
    UNSUPPORTED_FORMAT,
    /** The header or the pixel data could not be read completely (cut off in transfer, damaged). */
    TRUNCATED_OR_CORRUPT,
    /** More bytes than {@link ImageLimits#maxBytes()}. */
    TOO_MANY_BYTES,
    /** The header declares more pixels than {@link ImageLimits#maxPixels()} (decompression bomb, absurd size). */
    TOO_MANY_PIXELS,
    /** A side shorter than {@link ImageLimits#minSide()}: a thumbnail or icon, not a radiograph. */
    TOO_SMALL,
    /** The pixel values are (almost) constant: an empty or failed exposure. */
    BLANK,
    /** No lung fields found; reserved for the lung-segmentation stage. */
    NO_LUNGS,
    /** A lateral view (from the DICOM header): the model scores frontal radiographs only. */
    LATERAL_VIEW
}
