package org.cxrtriage.imaging;

import java.util.Objects;

/**
 * The model-ready CXR plane and how it was made.
 *
 * @param size            side of the square plane
 * @param cxr             {@code size × size} uint8 samples, row-major (read as {@code b & 0xFF})
 * @param crop            the region of the original image that was kept, in original pixel coordinates
 * @param originalWidth   width of the decoded original
 * @param originalHeight  height of the decoded original
 * @param decodeMs        wall time spent decoding (0 when a decoded image was passed in)
 * @param normaliseMs     wall time spent on crop, pad, CLAHE, standardisation and resize
 */
public record PreprocessedImage(int size, byte[] cxr, CropBox crop, int originalWidth, int originalHeight,
                                double decodeMs, double normaliseMs) {
    public PreprocessedImage {
        Objects.requireNonNull(cxr, "cxr");
        Objects.requireNonNull(crop, "crop");
        if (cxr.length != size * size) {
            throw new IllegalArgumentException("cxr has " + cxr.length + " samples, expected " + size + "²");
        }
    }

    @Override
    public String toString() {
        return "PreprocessedImage[" + size + "x" + size + ", crop=" + crop + ", original=" + originalWidth + "x"
                + originalHeight + ", decodeMs=" + decodeMs + ", normaliseMs=" + normaliseMs + "]";
    }
}
