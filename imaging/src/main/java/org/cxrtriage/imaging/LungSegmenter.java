package org.cxrtriage.imaging;

/**
 * Computes the lung channel of the model input: a lung probability per pixel of a preprocessed CXR.
 * Implementations must be deterministic and safe to call from several threads (or document otherwise).
 */
public interface LungSegmenter {
    /**
     * @param cxr  a preprocessed plane ({@link PreprocessedImage#cxr()}), {@code size × size} uint8, row-major
     * @param size its side
     * @return a probability map of the same size
     */
    LungMap segment(byte[] cxr, int size);

    /** Name and version of the segmenter, recorded with every tensor so outputs can be traced to it. */
    String version();
}
