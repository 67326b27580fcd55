package org.cxrtriage.imaging;

import java.util.Arrays;

/**
 * Finds the radiograph inside an image by removing uniform borders (black, white or gray) and bands of
 * burned-in text near the edges.
 *
 * <p>Heuristic, on a box-averaged thumbnail of at most {@value Thumbnail#MAX_SIDE} px:
 * <ol>
 *   <li>Intensities are rescaled to the image's own 0.1–99.9 % levels (so 12-bit data stored in 16 bits and
 *       washed-out scans behave like full-range 8-bit ones) and quantised to {@value #BINS} levels.</li>
 *   <li>The <em>border levels</em> are taken from the outermost rows and columns that are uniform (at least
 *       {@value #UNIFORM_FRACTION} of their pixels within one level of their most common level). If no edge is
 *       uniform there is no border and the full image is returned.</li>
 *   <li>A row (column) is <em>background</em> when at least {@value #UNIFORM_FRACTION} of its pixels lie within
 *       one level of a border level. That covers uniform borders and sparse bright text on them, while a row
 *       through anatomy spreads over many levels, and a uniform region of another level (a saturated area, a
 *       flat test pattern) is not mistaken for border.</li>
 *   <li>Content rows form runs; runs separated by less than 1 % of the side are merged (a dark band inside
 *       the radiograph must not split it), and the longest run is the radiograph. Text separated from the
 *       radiograph by a band of background is thus excluded.</li>
 *   <li>Rows are evaluated within the current column range and vice versa, alternating until stable, so a
 *       text band on top does not make the columns above the radiograph look like content.</li>
 * </ol>
 * If the result is smaller than {@value #MIN_SIDE_FRACTION} of the image on either side the heuristic has
 * probably been fooled (e.g. a small, bright label on a dark radiograph), and the full image is returned.
 *
 * <p>Coordinates found on the thumbnail are mapped back to whole thumbnail blocks, so on large inputs the box
 * can be generous by less than one block (e.g. 6 px on a 3000-px image), never tight.
 */
public final class BorderCrop {
    /** Quantisation levels for the per-line histograms. */
    static final int BINS = 64;
    /** Fraction of a line within ±1 level of its mode for the line to count as background. */
    static final double UNIFORM_FRACTION = 0.85;
    /** A crop may not shrink either side below this fraction of the original. */
    static final double MIN_SIDE_FRACTION = 0.3;
    /** Gaps of background lines narrower than this fraction of the side do not split the radiograph. */
    static final double MERGE_GAP_FRACTION = 0.01;

    private BorderCrop() {
    }

    /** The bounding box of the radiograph in {@code image}'s coordinates (the full image when in doubt). */
    public static CropBox find(GrayImage image) {
        return find(Thumbnail.of(image));
    }

    /** As {@link #find(GrayImage)} on a precomputed thumbnail; the box is in original coordinates. */
    static CropBox find(Thumbnail thumb) {
        CropBox original = CropBox.full(thumb.originalWidth(), thumb.originalHeight());
        float[] levels = Levels.percentiles(thumb.pixels(), thumb.width(), thumb.full(), 0.001, 0.999);
        float lo = levels[0];
        float span = levels[1] - levels[0];
        if (span <= 0f) {
            return original; // flat image: nothing to find, the blank check decides what happens to it
        }
        int w = thumb.width();
        int h = thumb.height();
        byte[] q = quantise(thumb.pixels(), lo, span);
        byte[] qt = transpose(q, w, h);
        boolean[] borderLevels = new boolean[BINS];
        boolean anyBorder = markIfUniform(q, 0, w, borderLevels) | markIfUniform(q, (h - 1) * w, w, borderLevels)
                | markIfUniform(qt, 0, h, borderLevels) | markIfUniform(qt, (w - 1) * h, h, borderLevels);
        if (!anyBorder) {
            return original;
        }

        int[] rows = {0, h};
        int[] cols = {0, w};
        for (int iteration = 0; iteration < 4; iteration++) {
            int[] newRows = longestContentRun(backgroundLines(q, w, h, cols[0], cols[1], borderLevels), h);
            int[] newCols = newRows == null ? null : longestContentRun(backgroundLines(qt, h, w, newRows[0], newRows[1], borderLevels), w);
            if (newRows == null || newCols == null) {
                return original; // no content at all
            }
            boolean stable = Arrays.equals(newRows, rows) && Arrays.equals(newCols, cols);
            rows = newRows;
            cols = newCols;
            if (stable) {
                break;
            }
        }
        CropBox box = thumb.toOriginal(new CropBox(cols[0], rows[0], cols[1] - cols[0], rows[1] - rows[0]));
        if (box.width() < MIN_SIDE_FRACTION * original.width() || box.height() < MIN_SIDE_FRACTION * original.height()) {
            return original;
        }
        return box;
    }

    private static byte[] quantise(float[] pixels, float lo, float span) {
        byte[] q = new byte[pixels.length];
        float scale = BINS / span;
        for (int i = 0; i < q.length; i++) {
            int b = (int) ((pixels[i] - lo) * scale);
            q[i] = (byte) (b < 0 ? 0 : Math.min(b, BINS - 1));
        }
        return q;
    }

    private static byte[] transpose(byte[] q, int w, int h) {
        byte[] t = new byte[q.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                t[x * h + y] = q[y * w + x];
            }
        }
        return t;
    }

    /**
     * If the {@code length} levels from {@code offset} are uniform, marks their mode ±1 as border levels.
     *
     * @return whether the line was uniform
     */
    private static boolean markIfUniform(byte[] q, int offset, int length, boolean[] borderLevels) {
        int[] hist = new int[BINS];
        for (int i = offset; i < offset + length; i++) {
            hist[q[i]]++;
        }
        int best = 0;
        int mode = 0;
        for (int b = 0; b < BINS; b++) {
            int around = hist[b] + (b > 0 ? hist[b - 1] : 0) + (b < BINS - 1 ? hist[b + 1] : 0);
            if (around > best) {
                best = around;
                mode = b;
            }
        }
        if (best < UNIFORM_FRACTION * length) {
            return false;
        }
        for (int b = Math.max(0, mode - 1); b <= Math.min(BINS - 1, mode + 1); b++) {
            borderLevels[b] = true;
        }
        return true;
    }

    /** For each row of a {@code w × h} level image, whether it is background within columns [from, to). */
    private static boolean[] backgroundLines(byte[] q, int w, int h, int from, int to, boolean[] borderLevels) {
        boolean[] background = new boolean[h];
        double needed = UNIFORM_FRACTION * (to - from);
        for (int y = 0; y < h; y++) {
            int row = y * w;
            int count = 0;
            for (int x = from; x < to; x++) {
                if (borderLevels[q[row + x]]) {
                    count++;
                }
            }
            background[y] = count >= needed;
        }
        return background;
    }

    /** The longest run of content lines after merging runs separated by short gaps, as {start, end}; null if none. */
    private static int[] longestContentRun(boolean[] background, int n) {
        int maxGap = Math.max(2, (int) Math.round(MERGE_GAP_FRACTION * n));
        int[] best = null;
        int start = -1;
        int lastContent = -1;
        for (int i = 0; i <= n; i++) {
            boolean content = i < n && !background[i];
            if (content) {
                if (start < 0 || i - lastContent - 1 >= maxGap) {
                    best = longer(best, start, lastContent);
                    start = i;
                }
                lastContent = i;
            }
        }
        return longer(best, start, lastContent);
    }

    private static int[] longer(int[] best, int start, int lastContent) {
        if (start < 0) {
            return best;
        }
        int[] run = {start, lastContent + 1};
        return best == null || run[1] - run[0] > best[1] - best[0] ? run : best;
    }
}
