package org.cxrtriage.imaging;

/**
 * Integer-factor box averaging in plain Java, for the first reduction of large images. Reads a {@link Plane}, so
 * 8- and 16-bit sources and DICOM are averaged straight from their samples.
 *
 * <p>Why not OpenCV here: handing a full-resolution float image to OpenCV means a fresh native allocation
 * (60 MB for 4280×3520) whose first touch cost hundreds of milliseconds of page faults on our 2-core
 * machines, more than the whole rest of the pipeline. Averaging k×k blocks is what {@code INTER_AREA} does
 * for integer factors, and here it is one sequential pass over the Java array: the k source rows of an output
 * row are summed element-wise (a loop the JIT vectorises), then reduced block by block. OpenCV then handles
 * the remaining small, non-integer step on an image a fraction of the size.
 *
 * <p>Blocks at the right and bottom edges may be partial; they are averaged over the pixels they have.
 */
final class BoxDownscale {
    private BoxDownscale() {
    }

    /** Output length for a source length and factor (partial blocks count). */
    static int outputSize(int length, int factor) {
        return (length + factor - 1) / factor;
    }

    /** Block means of {@code region} of a plane, as floats. */
    static float[] mean(Plane plane, CropBox region, int factor) {
        int ow = outputSize(region.width(), factor);
        int oh = outputSize(region.height(), factor);
        float[] out = new float[ow * oh];
        float[] rowSum = new float[region.width()];
        for (int oy = 0; oy < oh; oy++) {
            int rows = sumRows(plane, region, factor, oy, rowSum);
            for (int ox = 0; ox < ow; ox++) {
                out[oy * ow + ox] = blockMean(rowSum, factor, ox, rows);
            }
        }
        return out;
    }

    /**
     * Block means of {@code region}, windowed linearly so that {@code lo → 0} and {@code hi → 255}, rounded and
     * clipped to 8 bits. Fused so that no full-size float intermediate is allocated.
     */
    static byte[] mean8(Plane plane, CropBox region, int factor, float lo, float hi) {
        int ow = outputSize(region.width(), factor);
        int oh = outputSize(region.height(), factor);
        byte[] out = new byte[ow * oh];
        float gain = 255f / (hi - lo);
        float[] rowSum = new float[region.width()];
        if (factor == 1) {
            // Common at large output sizes: a plain windowing pass, no block sums.
            for (int y = 0; y < oh; y++) {
                plane.copyRow(region.y() + y, region.x(), ow, rowSum);
                for (int x = 0; x < ow; x++) {
                    out[y * ow + x] = to8(rowSum[x], lo, gain);
                }
            }
            return out;
        }
        for (int oy = 0; oy < oh; oy++) {
            int rows = sumRows(plane, region, factor, oy, rowSum);
            for (int ox = 0; ox < ow; ox++) {
                out[oy * ow + ox] = to8(blockMean(rowSum, factor, ox, rows), lo, gain);
            }
        }
        return out;
    }

    private static byte to8(float value, float lo, float gain) {
        float v = (value - lo) * gain + 0.5f;
        return (byte) (v <= 0f ? 0 : v >= 255f ? 255 : (int) v);
    }

    /** Element-wise sum of the source rows of output row {@code oy}; returns how many rows were summed. */
    private static int sumRows(Plane plane, CropBox region, int factor, int oy, float[] rowSum) {
        int y0 = region.y() + oy * factor;
        int y1 = Math.min(y0 + factor, region.bottom());
        int n = rowSum.length;
        plane.copyRow(y0, region.x(), n, rowSum);
        for (int y = y0 + 1; y < y1; y++) {
            plane.addRow(y, region.x(), n, rowSum);
        }
        return y1 - y0;
    }

    private static float blockMean(float[] rowSum, int factor, int ox, int rows) {
        int x0 = ox * factor;
        int x1 = Math.min(x0 + factor, rowSum.length);
        float s = 0f;
        for (int x = x0; x < x1; x++) {
            s += rowSum[x];
        }
        return s / (rows * (x1 - x0));
    }
}
