package org.cxrtriage.imaging;

import java.util.ArrayList;
import java.util.List;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Point;
import org.opencv.core.Rect;
import org.opencv.core.Scalar;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * <b>Placeholder</b> lung segmenter until the paper's trained U-Net replaces it behind {@link LungSegmenter}.
 * A classical heuristic, good enough to exercise the pipeline and give the model a rough lung prior; it
 * under-segments dense consolidations (opaque lung is not dark) and is fooled by unusual framing. On the
 * 358 hand-drawn lung masks of the data set (preprocessed at 256 px) its mean Dice is about 0.74, where a
 * trained U-Net typically exceeds 0.9.
 *
 * <p>Lungs are the large dark regions inside the body, one each side of the mediastinum. On a
 * {@value #WORK}-px copy:
 * <ol>
 *   <li>Gaussian smoothing; an Otsu threshold over the central 80 % (so outside air and padding do not
 *       dominate the histogram), raised part-way towards the bright class because diseased lungs are hazy.</li>
 *   <li>The midline is the brightest column near the centre (spine and mediastinum); each half is segmented
 *       separately so one lung leaking into the outside air does not cost the other.</li>
 *   <li>Per half, morphological opening with growing radii until a lung candidate separates from the outside
 *       air: the largest connected component that does not touch the image border, covers at least 1 % of the
 *       image and lies in the central area. Failing that, the largest dark component inside a typical lung
 *       position (an ellipse in that half).</li>
 *   <li>Closing and hole filling (opacities inside a lung are still lung); a Gaussian blur of the mask gives
 *       soft probabilities, resized to the requested size.</li>
 * </ol>
 * Deterministic, stateless and thread-safe; 2–5 ms per image on one core. Returns an all-zero map (area 0)
 * when nothing lung-like is found, e.g. for a flat image; deciding that this means
 * {@link RejectReason#NO_LUNGS} is up to the caller.
 */
public final class HeuristicLungSegmenter implements LungSegmenter {
    /** Identifies this algorithm's output; bump on any change that alters probabilities (cache keys use it). */
    public static final String VERSION = "heuristic-lungs-1";
    /** Working resolution: the heuristic needs no more detail than this. */
    static final int WORK = 256;
    /** Below this the morphology has nothing to work with. */
    public static final int MIN_SIZE = 32;
    private static final double MIN_COMPONENT_FRACTION = 0.01;
    /** Smoothed gray levels the centre must span before any threshold means something. */
    private static final double MIN_CONTRAST = 16;
    /** How far the threshold moves from Otsu's towards the mean of the bright class. */
    private final double haze;

    public HeuristicLungSegmenter() {
        this(0.5);
    }

    /** For tuning experiments only. */
    HeuristicLungSegmenter(double haze) {
        this.haze = haze;
    }

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public LungMap segment(byte[] cxr, int size) {
        if (size < MIN_SIZE || cxr == null || cxr.length != size * size) {
            throw new IllegalArgumentException("cxr must hold size² samples with size >= " + MIN_SIZE + " (size=" + size + ")");
        }
        try (OpenCv.Scope s = new OpenCv.Scope()) {
            Mat input = s.add(OpenCv.toMat8(cxr, size, size));
            Mat small = size > WORK ? s.add(Resize.resize(input, WORK, WORK)) : input;
            int n = small.rows();

            Mat smooth = s.mat();
            Imgproc.GaussianBlur(small, smooth, new Size(0, 0), n / 128.0);
            int margin = n / 10;
            Mat central = s.add(smooth.submat(new Rect(margin, margin, n - 2 * margin, n - 2 * margin)));
            Core.MinMaxLocResult range = Core.minMaxLoc(central);
            if (range.maxVal - range.minVal < MIN_CONTRAST) {
                // A flat image (or one without a body in the centre) has no lungs to find.
                return new LungMap(new byte[size * size], 0.0);
            }
            Mat bright = s.mat();
            double otsu = Imgproc.threshold(central, bright, 0, 255, Imgproc.THRESH_BINARY | Imgproc.THRESH_OTSU);
            double brightMean = Core.mean(central, bright).val[0];
            Mat dark = s.mat();
            Imgproc.threshold(smooth, dark, otsu + haze * (brightMean - otsu), 255, Imgproc.THRESH_BINARY_INV);

            int midline = midline(smooth, n);
            Mat lungs = s.add(Mat.zeros(n, n, CvType.CV_8UC1));
            segmentHalf(dark, new Rect(0, 0, midline, n), n, lungs, s);
            segmentHalf(dark, new Rect(midline + 1, 0, n - midline - 1, n), n, lungs, s);

            int r = Math.max(1, n / 32);
            Imgproc.morphologyEx(lungs, lungs, Imgproc.MORPH_CLOSE, s.add(disk(r)));
            fillHoles(lungs, s);
            Mat probability = s.mat();
            Imgproc.GaussianBlur(lungs, probability, new Size(0, 0), n / 100.0);
            Mat out = size == n ? probability : s.add(resizeLinear(probability, size));
            byte[] p = OpenCv.bytes(out);
            return new LungMap(p, LungMap.areaFraction(p));
        }
    }

    /** The brightest column between 35 % and 65 % of the width, over the central rows. */
    private static int midline(Mat smooth, int n) {
        Mat rows = smooth.submat(new Rect(0, n / 5, n, n * 3 / 5));
        Mat profile = new Mat();
        Core.reduce(rows, profile, 0, Core.REDUCE_AVG, CvType.CV_32F);
        float[] p = new float[n];
        profile.get(0, 0, p);
        rows.release();
        profile.release();
        int best = n / 2;
        for (int x = (int) (0.35 * n); x <= (int) (0.65 * n); x++) {
            if (p[x] > p[best]) {
                best = x;
            }
        }
        return best;
    }

    /** Adds the lung found in {@code half} of the dark mask (if any) to {@code lungs}. */
    private static void segmentHalf(Mat dark, Rect half, int n, Mat lungs, OpenCv.Scope s) {
        Mat halfDark = s.add(Mat.zeros(n, n, CvType.CV_8UC1));
        s.add(dark.submat(half)).copyTo(s.add(halfDark.submat(half)));
        for (int radius : new int[] {n / 64, n / 32, n / 20}) {
            Mat opened = s.mat();
            Imgproc.morphologyEx(halfDark, opened, Imgproc.MORPH_OPEN, s.add(disk(Math.max(1, radius))));
            if (addLargest(opened, n, lungs, true, s)) {
                return;
            }
        }
        // Fallback: whatever is dark where a lung usually is in a preprocessed frontal CXR.
        Mat prior = s.add(Mat.zeros(n, n, CvType.CV_8UC1));
        Point centre = new Point(half.x + half.width / 2.0, 0.45 * n);
        Imgproc.ellipse(prior, centre, new Size(0.17 * n, 0.32 * n), 0, 0, 360, new Scalar(255), -1);
        Core.bitwise_and(prior, halfDark, prior);
        Imgproc.morphologyEx(prior, prior, Imgproc.MORPH_OPEN, s.add(disk(Math.max(1, n / 64))));
        addLargest(prior, n, lungs, false, s);
    }

    /** ORs the largest qualifying component of {@code mask} into {@code lungs}; false if there is none. */
    private static boolean addLargest(Mat mask, int n, Mat lungs, boolean awayFromBorder, OpenCv.Scope s) {
        Mat labels = s.mat();
        Mat stats = s.mat();
        Mat centroids = s.mat();
        int count = Imgproc.connectedComponentsWithStats(mask, labels, stats, centroids, 8, CvType.CV_32S);
        int bestLabel = -1;
        int bestArea = (int) Math.ceil(MIN_COMPONENT_FRACTION * n * n);
        for (int label = 1; label < count; label++) {
            int[] st = new int[5];
            stats.get(label, 0, st);
            int x = st[Imgproc.CC_STAT_LEFT];
            int y = st[Imgproc.CC_STAT_TOP];
            int w = st[Imgproc.CC_STAT_WIDTH];
            int h = st[Imgproc.CC_STAT_HEIGHT];
            int area = st[Imgproc.CC_STAT_AREA];
            double cx = centroids.get(label, 0)[0];
            double cy = centroids.get(label, 1)[0];
            boolean touchesBorder = x == 0 || y == 0 || x + w >= n || y + h >= n;
            boolean central = cx > 0.1 * n && cx < 0.9 * n && cy > 0.05 * n && cy < 0.85 * n;
            // Ties go to the lower label, so the result never depends on iteration order.
            if ((!awayFromBorder || !touchesBorder) && central && area > bestArea) {
                bestArea = area;
                bestLabel = label;
            }
        }
        if (bestLabel < 0) {
            return false;
        }
        Mat one = s.mat();
        Core.compare(labels, new Scalar(bestLabel), one, Core.CMP_EQ);
        Core.bitwise_or(lungs, one, lungs);
        return true;
    }

    /** Sets enclosed background regions of a 0/255 mask to 255. */
    private static void fillHoles(Mat mask, OpenCv.Scope s) {
        int n = mask.rows();
        // Flood the outside from a 1-px frame so that every border pixel is reachable.
        Mat framed = s.mat();
        Core.copyMakeBorder(mask, framed, 1, 1, 1, 1, Core.BORDER_CONSTANT, Scalar.all(0));
        Mat floodMask = s.add(Mat.zeros(n + 4, n + 4, CvType.CV_8UC1));
        Imgproc.floodFill(framed, floodMask, new Point(0, 0), Scalar.all(255));
        Mat outside = s.add(framed.submat(new Rect(1, 1, n, n)));
        Mat holes = s.mat();
        Core.bitwise_not(outside, holes);
        Core.bitwise_or(mask, holes, mask);
    }

    private static Mat disk(int radius) {
        return Imgproc.getStructuringElement(Imgproc.MORPH_ELLIPSE, new Size(2 * radius + 1, 2 * radius + 1));
    }

    private static Mat resizeLinear(Mat src, int size) {
        Mat dst = new Mat();
        Imgproc.resize(src, dst, new Size(size, size), 0, 0, Imgproc.INTER_LINEAR);
        return dst;
    }
}
