package org.cxrtriage.model;

import java.util.Objects;

/**
 * One preprocessed image as it travels on {@code cxr.tensors}: two uint8 planes, row-major
 * {@code size x size}: the CXR and the lung probability (x255). The third model channel is implied zeros.
 * Arrays are not copied (they can be large); do not mutate them while a prediction runs.
 */
public record ModelInput(int size, byte[] cxr, byte[] lung) {
    public ModelInput {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be > 0, got " + size);
        }
        Objects.requireNonNull(cxr, "cxr");
        Objects.requireNonNull(lung, "lung");
        long expected = (long) size * size;
        if (cxr.length != expected || lung.length != expected) {
            throw new IllegalArgumentException("planes must hold size*size = " + expected + " bytes, got cxr="
                    + cxr.length + ", lung=" + lung.length);
        }
    }
}
