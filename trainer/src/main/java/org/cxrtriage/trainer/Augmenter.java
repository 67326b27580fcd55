package org.cxrtriage.trainer;

import java.util.SplittableRandom;
import org.cxrtriage.model.ModelInput;

/**
 * Label-preserving train-time augmentations on the uint8 planes (paper: flip, small rotation, shift/zoom,
 * brightness/contrast/gamma), each applied with its own probability and parameters drawn uniformly from a
 * range. Geometric transforms move the CXR and lung planes together; intensity transforms touch only the CXR.
 * Output pixels outside the source are 0, like the service's black padding. Stateless; pass the RNG.
 */
public record Augmenter(
        double flipProbability,
        double affineProbability, double maxRotationDegrees, double maxShiftFraction, double maxZoom,
        double brightnessProbability, double maxBrightness,
        double contrastProbability, double maxContrast,
        double gammaProbability, double maxGamma) {

    /** Moderate defaults: flip 0.5; affine 0.7 (±10°, ±6% shift, ±10% zoom); brightness/contrast/gamma 0.5 each. */
    public static Augmenter defaults() {
        return new Augmenter(0.5, 0.7, 10, 0.06, 0.10, 0.5, 0.10, 0.5, 0.15, 0.5, 0.25);
    }

    /**
     * The same probabilities with every range (rotation, shift, zoom, brightness, contrast, gamma) multiplied by
     * {@code strength}; 1 gives this augmenter back. A GPU recipe sweep (bench/gpu/results/recipe-sweep.md) found
     * 1.5 × the defaults better on held-out data than 1 or 2 with long schedules.
     */
    public Augmenter scaled(double strength) {
        if (!(strength >= 0) || Double.isInfinite(strength)) {
            throw new IllegalArgumentException("augmentation strength must be >= 0, got " + strength);
        }
        return new Augmenter(flipProbability, affineProbability, maxRotationDegrees * strength,
                maxShiftFraction * strength, maxZoom * strength, brightnessProbability, maxBrightness * strength,
                contrastProbability, maxContrast * strength, gammaProbability, maxGamma * strength);
    }

    public static Augmenter none() {
        return new Augmenter(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    public ModelInput apply(ModelInput in, SplittableRandom rnd) {
        int n = in.size();
        byte[] cxr = in.cxr();
        byte[] lung = in.lung();
        boolean flip = rnd.nextDouble() < flipProbability;
        boolean affine = rnd.nextDouble() < affineProbability;
        if (flip || affine) {
            double angle = affine ? Math.toRadians(uniform(rnd, maxRotationDegrees)) : 0;
            double zoom = affine ? 1 + uniform(rnd, maxZoom) : 1;
            double tx = affine ? uniform(rnd, maxShiftFraction) * n : 0;
            double ty = affine ? uniform(rnd, maxShiftFraction) * n : 0;
            cxr = warp(cxr, n, flip, angle, zoom, tx, ty);
            lung = warp(lung, n, flip, angle, zoom, tx, ty);
        }
        int[] lut = null;
        if (rnd.nextDouble() < gammaProbability) {
            lut = compose(lut, gammaLut(1 + uniform(rnd, maxGamma)));
        }
        if (rnd.nextDouble() < contrastProbability) {
            lut = compose(lut, linearLut(1 + uniform(rnd, maxContrast), 0));
        }
        if (rnd.nextDouble() < brightnessProbability) {
            lut = compose(lut, linearLut(1, uniform(rnd, maxBrightness) * 255));
        }
        if (lut != null) {
            byte[] out = new byte[cxr.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (byte) lut[cxr[i] & 0xFF];
            }
            cxr = out;
        }
        return cxr == in.cxr() && lung == in.lung() ? in : new ModelInput(n, cxr, lung);
    }

    private static double uniform(SplittableRandom rnd, double max) {
        return max == 0 ? 0 : (rnd.nextDouble() * 2 - 1) * max;
    }

    private static int[] gammaLut(double gamma) {
        int[] lut = new int[256];
        for (int v = 0; v < 256; v++) {
            lut[v] = clamp(Math.round(255 * Math.pow(v / 255.0, gamma)));
        }
        return lut;
    }

    /** Contrast around mid-gray 128, then offset. */
    private static int[] linearLut(double contrast, double offset) {
        int[] lut = new int[256];
        for (int v = 0; v < 256; v++) {
            lut[v] = clamp(Math.round((v - 128) * contrast + 128 + offset));
        }
        return lut;
    }

    private static int[] compose(int[] first, int[] then) {
        if (first == null) {
            return then;
        }
        int[] out = new int[256];
        for (int v = 0; v < 256; v++) {
            out[v] = then[first[v]];
        }
        return out;
    }

    private static int clamp(long v) {
        return (int) Math.max(0, Math.min(255, v));
    }

    /**
     * Inverse-mapped bilinear warp about the centre: out(p) = in(R^-1 (p - c - t) / zoom + c), optionally
     * mirrored left-right first.
     */
    static byte[] warp(byte[] src, int n, boolean flip, double angle, double zoom, double tx, double ty) {
        byte[] dst = new byte[src.length];
        double c = (n - 1) / 2.0;
        double cos = Math.cos(angle) / zoom;
        double sin = Math.sin(angle) / zoom;
        for (int y = 0; y < n; y++) {
            double dy = y - c - ty;
            for (int x = 0; x < n; x++) {
                double dx = x - c - tx;
                double sx = cos * dx + sin * dy + c;
                double sy = -sin * dx + cos * dy + c;
                if (flip) {
                    sx = n - 1 - sx;
                }
                if (sx < 0 || sy < 0 || sx > n - 1 || sy > n - 1) {
                    continue;
                }
                int x0 = (int) sx;
                int y0 = (int) sy;
                int x1 = Math.min(x0 + 1, n - 1);
                int y1 = Math.min(y0 + 1, n - 1);
                double wx = sx - x0;
                double wy = sy - y0;
                double top = (src[y0 * n + x0] & 0xFF) * (1 - wx) + (src[y0 * n + x1] & 0xFF) * wx;
                double bottom = (src[y1 * n + x0] & 0xFF) * (1 - wx) + (src[y1 * n + x1] & 0xFF) * wx;
                dst[y * n + x] = (byte) (int) Math.round(top * (1 - wy) + bottom * wy);
            }
        }
        return dst;
    }
}
