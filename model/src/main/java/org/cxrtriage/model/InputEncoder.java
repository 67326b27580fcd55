package org.cxrtriage.model;

/**
 * Turns a {@link ModelInput} into the model's CHW float32 layout: channels [CXR, lung probability, zeros],
 * each scaled to [0,1] then normalised per channel with the ImageNet mean/std
 * ({@code (x - MEAN[c]) / STD[c]}), so ImageNet-pretrained backbones can be dropped in as in the paper.
 * The zero channel therefore becomes the constant {@code -MEAN[2]/STD[2]}. The trainer must use this
 * same encoder. Planes whose size differs from the target are resized bilinearly (half-pixel centres,
 * no antialiasing: same as PyTorch {@code align_corners=false} and OpenCV {@code INTER_LINEAR}).
 *
 * <p>Stateless and thread-safe.
 */
public final class InputEncoder {
    public static final int CHANNELS = 3;
    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};
    /** Per-channel lookup table uint8 -> normalised float, for the no-resize path. */
    private static final float[][] LUT = new float[2][256];
    /** Per-channel lookup table sum of a 2x2 block (0..1020) -> normalised mean, for the halving path. */
    private static final float[][] HALF_LUT = new float[2][4 * 255 + 1];

    static {
        for (int c = 0; c < 2; c++) {
            for (int v = 0; v < 256; v++) {
                LUT[c][v] = normalise(c, v);
            }
            for (int sum = 0; sum < HALF_LUT[c].length; sum++) {
                HALF_LUT[c][sum] = normalise(c, sum * 0.25f);
            }
        }
    }

    private InputEncoder() {}

    public static float mean(int channel) {
        return MEAN[channel];
    }

    public static float std(int channel) {
        return STD[channel];
    }

    /** Writes {@code 3*size*size} floats for {@code input} into {@code dst} starting at {@code offset}. */
    public static void encode(ModelInput input, int size, float[] dst, int offset) {
        int plane = size * size;
        if (offset < 0 || dst.length - offset < (long) CHANNELS * plane) {
            throw new IllegalArgumentException("destination too small for 3x" + size + "x" + size);
        }
        encodePlane(input.cxr(), input.size(), size, 0, dst, offset);
        encodePlane(input.lung(), input.size(), size, 1, dst, offset + plane);
        java.util.Arrays.fill(dst, offset + 2 * plane, offset + 3 * plane, normalise(2, 0));
    }

    /** Convenience: a fresh CHW array for one input. */
    public static float[] encode(ModelInput input, int size) {
        float[] dst = new float[CHANNELS * size * size];
        encode(input, size, dst, 0);
        return dst;
    }

    private static void encodePlane(byte[] src, int srcSize, int size, int channel, float[] dst, int offset) {
        if (srcSize == size) {
            float[] lut = LUT[channel];
            for (int i = 0; i < src.length; i++) {
                dst[offset + i] = lut[src[i] & 0xFF];
            }
            return;
        }
        if (srcSize == 2 * size) {
            halve(src, srcSize, size, HALF_LUT[channel], dst, offset);
            return;
        }
        resizeBilinear(src, srcSize, size, dst, offset);
        for (int i = 0; i < size * size; i++) {
            dst[offset + i] = normalise(channel, dst[offset + i]);
        }
    }

    /**
     * The stream's 256-px planes into the model's 128: at exactly half size each bilinear sample (half-pixel centres)
     * falls midway between 4 pixels, so it is their mean, and {@link #resizeBilinear} gives the same floats bit for
     * bit (weights 0.5, sums of small integers: no rounding). Without its index and weight arrays and per-pixel
     * divisions the inference service spends less on every image.
     */
    private static void halve(byte[] src, int srcSize, int size, float[] lut, float[] dst, int offset) {
        for (int y = 0; y < size; y++) {
            int r0 = 2 * y * srcSize;
            int r1 = r0 + srcSize;
            int out = offset + y * size;
            for (int x = 0; x < size; x++) {
                int c = 2 * x;
                dst[out + x] = lut[(src[r0 + c] & 0xFF) + (src[r0 + c + 1] & 0xFF)
                        + (src[r1 + c] & 0xFF) + (src[r1 + c + 1] & 0xFF)];
            }
        }
    }

    /** Bilinear resize of a square uint8 plane into floats in [0,255]. */
    static void resizeBilinear(byte[] src, int srcSize, int size, float[] dst, int offset) {
        float scale = (float) srcSize / size;
        int[] i0 = new int[size];
        int[] i1 = new int[size];
        float[] w = new float[size];
        for (int d = 0; d < size; d++) {
            float s = Math.max((d + 0.5f) * scale - 0.5f, 0f);
            int lo = Math.min((int) s, srcSize - 1);
            i0[d] = lo;
            i1[d] = Math.min(lo + 1, srcSize - 1);
            w[d] = s - lo;
        }
        for (int y = 0; y < size; y++) {
            int r0 = i0[y] * srcSize;
            int r1 = i1[y] * srcSize;
            float wy = w[y];
            for (int x = 0; x < size; x++) {
                float wx = w[x];
                float top = (src[r0 + i0[x]] & 0xFF) * (1 - wx) + (src[r0 + i1[x]] & 0xFF) * wx;
                float bottom = (src[r1 + i0[x]] & 0xFF) * (1 - wx) + (src[r1 + i1[x]] & 0xFF) * wx;
                dst[offset + y * size + x] = top * (1 - wy) + bottom * wy;
            }
        }
    }

    private static float normalise(int channel, float value255) {
        return (value255 / 255f - MEAN[channel]) / STD[channel];
    }
}
