package org.cxrtriage.model;

import java.util.Arrays;

/**
 * The lung region of a preprocessed image and the X-ray plane blacked out inside or outside it: the model's
 * {@link InputView#LUNGS_ONLY} input and the evaluation's shortcut check use this one definition.
 *
 * <p>The region is the lung plane (the U-Net's probability × 255) at or above {@link #LUNG_LEVEL}, grown by a
 * margin in every direction so that the lung borders, where the map is least sure, count as lung.
 */
public final class LungRegion {
    /** Lung plane value from which a pixel counts as lung: probability 0.5. */
    public static final int LUNG_LEVEL = 128;
    /** The default margin, as a fraction of the image side: 8 px of the stream's 256. */
    public static final double MARGIN = 0.03;
    /** What the blacked-out part of the X-ray plane becomes: black, as the preprocessing's own padding. */
    public static final byte FILL = 0;

    private LungRegion() {}

    /** The region with the default margin ({@link #MARGIN} of the side). */
    public static boolean[] of(ModelInput input) {
        return of(input, (int) Math.round(MARGIN * input.size()));
    }

    /** Lung pixels (lung plane ≥ {@link #LUNG_LEVEL}) grown by a square of radius {@code margin} pixels. */
    public static boolean[] of(ModelInput input, int margin) {
        if (margin < 0) {
            throw new IllegalArgumentException("margin must be >= 0, got " + margin);
        }
        int n = input.size();
        boolean[] lung = new boolean[n * n];
        byte[] plane = input.lung();
        for (int i = 0; i < lung.length; i++) {
            lung[i] = (plane[i] & 0xFF) >= LUNG_LEVEL;
        }
        // A square max filter is separable: grow along rows, then along columns.
        return margin == 0 ? lung : grow(grow(lung, n, margin, 1, n), n, margin, n, 1);
    }

    /**
     * The input with its X-ray plane set to {@link #FILL} inside the region ({@code insideRegion}) or outside it;
     * the lung plane is shared, the X-ray plane is a copy.
     */
    public static ModelInput blackOut(ModelInput input, boolean[] region, boolean insideRegion) {
        byte[] cxr = Arrays.copyOf(input.cxr(), input.cxr().length);
        for (int i = 0; i < cxr.length; i++) {
            if (region[i] == insideRegion) {
                cxr[i] = FILL;
            }
        }
        return new ModelInput(input.size(), cxr, input.lung());
    }

    /**
     * Grows along lines: pixel {@code line * lineStride + k * step}, k = 0..n-1, is on when a pixel of its line
     * within {@code r} is on (a forward and a backward pass, each remembering the last on pixel).
     */
    private static boolean[] grow(boolean[] in, int n, int r, int step, int lineStride) {
        boolean[] out = new boolean[in.length];
        for (int line = 0; line < n; line++) {
            int base = line * lineStride;
            int lastOn = -r - 1;
            for (int k = 0; k < n; k++) {
                if (in[base + k * step]) {
                    lastOn = k;
                }
                out[base + k * step] = k - lastOn <= r;
            }
            lastOn = n + r;
            for (int k = n - 1; k >= 0; k--) {
                if (in[base + k * step]) {
                    lastOn = k;
                }
                out[base + k * step] |= lastOn - k <= r;
            }
        }
        return out;
    }
}
