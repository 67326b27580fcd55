package org.cxrtriage.trainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.LungRegion;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.Prediction;

/**
 * Where the model looks, image by image: occlusion sensitivity (Zeiler & Fergus 2014). The X-ray plane is cut into a
 * {@code grid × grid} raster; each cell in turn is filled with the plane's mean gray and the image scored again. A
 * cell's sensitivity is p(covid) of the image minus p(covid) with that cell covered: positive where the cell speaks
 * for COVID-19, negative where it speaks against. The lung plane is left as it is, as in the shortcut check.
 *
 * <p>Per image, the <em>lung share</em> is the part of the summed |sensitivity| that falls in the {@link LungRegion}
 * (each cell weighted by the fraction of its pixels in the region). Its yardstick is the region's share of the image:
 * a model that looked everywhere alike would have a lung share equal to it. The saliency-map check DeGrave et al. 2021
 * ask for before deployment, as one number with a CI over patients, plus mean maps.
 */
final class OcclusionSensitivity {
    static final int DEFAULT_GRID = 8;

    private OcclusionSensitivity() {}

    /** One image's raster: sensitivity per cell and the fraction of each cell inside the lung region (row-major). */
    record ImageMap(int grid, double[] sensitivity, double[] lungOverlap) {
        /** Share of the summed |sensitivity| inside the lung region; NaN when covering changes nothing at all. */
        double lungShare() {
            double inside = 0;
            double all = 0;
            for (int c = 0; c < sensitivity.length; c++) {
                double s = Math.abs(sensitivity[c]);
                inside += s * lungOverlap[c];
                all += s;
            }
            return all == 0 ? Double.NaN : inside / all;
        }

        /** The lung region's share of the image: the lung share of a model that looks everywhere alike. */
        double lungArea() {
            return Arrays.stream(lungOverlap).average().orElse(Double.NaN);
        }
    }

    /**
     * The maps of {@code inputs}, whose unoccluded p(covid) is {@code baseline}; all cells of one image go through the
     * predictor in one call (its batch size splits them).
     */
    static List<ImageMap> maps(CxrPredictor predictor, List<ModelInput> inputs, double[] baseline, int grid,
            java.io.PrintStream progress) {
        if (grid < 1) {
            throw new IllegalArgumentException("grid must be >= 1, got " + grid);
        }
        if (baseline.length != inputs.size()) {
            throw new IllegalArgumentException(baseline.length + " baseline scores for " + inputs.size() + " images");
        }
        List<ImageMap> out = new ArrayList<>(inputs.size());
        long start = System.nanoTime();
        for (int i = 0; i < inputs.size(); i++) {
            ModelInput input = inputs.get(i);
            byte fill = (byte) meanGray(input.cxr());
            List<ModelInput> covered = new ArrayList<>(grid * grid);
            for (int cell = 0; cell < grid * grid; cell++) {
                covered.add(cover(input, grid, cell, fill));
            }
            List<Prediction> scored = predictor.predict(covered);
            double[] sensitivity = new double[grid * grid];
            for (int cell = 0; cell < sensitivity.length; cell++) {
                sensitivity[cell] = baseline[i] - scored.get(cell).probability();
            }
            out.add(new ImageMap(grid, sensitivity, lungOverlap(LungRegion.of(input), input.size(), grid)));
            if (progress != null && ((i + 1) % 25 == 0 || i + 1 == inputs.size())) {
                progress.printf(Locale.ROOT, "occlusion: %d/%d images (%.0fs)%n", i + 1, inputs.size(),
                        (System.nanoTime() - start) / 1e9);
            }
        }
        return out;
    }

    /** Pixel range [from, to) of cell row or column {@code k} of {@code grid} on a side of {@code n}. */
    static int edge(int k, int grid, int n) {
        return (int) ((long) k * n / grid);
    }

    /** The input with cell {@code cell} (row-major) of its X-ray plane set to the plane's mean gray. */
    static ModelInput cover(ModelInput input, int grid, int cell) {
        return cover(input, grid, cell, (byte) meanGray(input.cxr()));
    }

    /** As {@link #cover(ModelInput, int, int)} with the fill given (the mean gray, computed once per image). */
    private static ModelInput cover(ModelInput input, int grid, int cell, byte fill) {
        int n = input.size();
        byte[] cxr = Arrays.copyOf(input.cxr(), input.cxr().length);
        int row = cell / grid;
        int col = cell % grid;
        for (int y = edge(row, grid, n); y < edge(row + 1, grid, n); y++) {
            Arrays.fill(cxr, y * n + edge(col, grid, n), y * n + edge(col + 1, grid, n), fill);
        }
        return new ModelInput(n, cxr, input.lung());
    }

    static int meanGray(byte[] plane) {
        long sum = 0;
        for (byte b : plane) {
            sum += b & 0xFF;
        }
        return (int) Math.round(sum / (double) plane.length);
    }

    /** Fraction of each cell's pixels inside {@code region} (n × n, row-major). */
    static double[] lungOverlap(boolean[] region, int n, int grid) {
        double[] overlap = new double[grid * grid];
        for (int row = 0; row < grid; row++) {
            for (int col = 0; col < grid; col++) {
                int on = 0;
                int all = 0;
                for (int y = edge(row, grid, n); y < edge(row + 1, grid, n); y++) {
                    for (int x = edge(col, grid, n); x < edge(col + 1, grid, n); x++) {
                        on += region[y * n + x] ? 1 : 0;
                        all++;
                    }
                }
                overlap[row * grid + col] = all == 0 ? 0 : on / (double) all;
            }
        }
        return overlap;
    }

    /**
     * The {@code occlusion} block of metrics.json: mean lung share and mean lung area with patient-bootstrap 95% CIs,
     * overall and by label, the share of images whose lung share exceeds their lung area, and the mean |sensitivity|.
     */
    static Map<String, Object> report(List<Evaluation.Case> cases, List<ImageMap> maps, int resamples, long seed) {
        if (cases.size() != maps.size()) {
            throw new IllegalArgumentException(maps.size() + " maps for " + cases.size() + " cases");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        int grid = maps.isEmpty() ? DEFAULT_GRID : maps.get(0).grid();
        out.put("description", "occlusion sensitivity: each cell of a " + grid + " x " + grid + " raster of the X-ray "
                + "plane covered in turn with the plane's mean gray (lung plane unchanged); sensitivity = p(covid) "
                + "minus p(covid) with the cell covered. lungShare = part of the summed |sensitivity| inside the lung "
                + "region (as in lungAblation); lungArea = the region's part of the image, what lungShare would be "
                + "if the model looked everywhere alike. CIs: 95% percentile bootstrap over patients");
        out.put("all", block(cases, maps, c -> true, resamples, seed));
        out.put("covid", block(cases, maps, Evaluation.Case::positive, resamples, seed));
        out.put("negative", block(cases, maps, c -> !c.positive(), resamples, seed));
        return out;
    }

    private static Map<String, Object> block(List<Evaluation.Case> cases, List<ImageMap> maps,
            java.util.function.Predicate<Evaluation.Case> which, int resamples, long seed) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            if (which.test(cases.get(i))) {
                idx.add(i);
            }
        }
        int n = idx.size();
        double[] share = new double[n];
        double[] area = new double[n];
        double[] magnitude = new double[n];
        String[] patients = new String[n];
        for (int j = 0; j < n; j++) {
            ImageMap map = maps.get(idx.get(j));
            share[j] = map.lungShare();
            area[j] = map.lungArea();
            magnitude[j] = Arrays.stream(map.sensitivity()).map(Math::abs).average().orElse(Double.NaN);
            patients[j] = cases.get(idx.get(j)).patientId();
        }
        Map<String, Function<int[], Double>> fns = new LinkedHashMap<>();
        fns.put("lungShare", rows -> mean(share, rows));
        fns.put("lungArea", rows -> mean(area, rows));
        fns.put("lungShareMinusArea", rows -> mean(share, rows) - mean(area, rows));
        fns.put("imagesLookingMoreInsideLungs", rows -> fractionAbove(share, area, rows));
        fns.put("meanAbsSensitivity", rows -> mean(magnitude, rows));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("images", n);
        Metrics.bootstrap(n, patients, fns, resamples, seed).forEach((k, e) -> out.put(k, Evaluation.estimate(e)));
        return out;
    }

    /** Mean over {@code rows} of {@code v}, skipping NaN. */
    private static double mean(double[] v, int[] rows) {
        double sum = 0;
        int count = 0;
        for (int r : rows) {
            if (!Double.isNaN(v[r])) {
                sum += v[r];
                count++;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }

    private static double fractionAbove(double[] share, double[] area, int[] rows) {
        int above = 0;
        int count = 0;
        for (int r : rows) {
            if (!Double.isNaN(share[r])) {
                above += share[r] > area[r] ? 1 : 0;
                count++;
            }
        }
        return count == 0 ? Double.NaN : above / (double) count;
    }

    /** Mean lung overlap per cell over all maps: where the lungs are, on average. */
    static double[] meanLungMap(List<ImageMap> maps) {
        int grid = maps.isEmpty() ? DEFAULT_GRID : maps.get(0).grid();
        double[] sum = new double[grid * grid];
        for (ImageMap map : maps) {
            for (int c = 0; c < sum.length; c++) {
                sum[c] += map.lungOverlap()[c] / maps.size();
            }
        }
        return sum;
    }

    /** Mean |sensitivity| per cell over the maps {@code which} selects (row-major), for the report's heat map. */
    static double[] meanAbsMap(List<Evaluation.Case> cases, List<ImageMap> maps,
            java.util.function.Predicate<Evaluation.Case> which) {
        int grid = maps.isEmpty() ? DEFAULT_GRID : maps.get(0).grid();
        double[] sum = new double[grid * grid];
        int count = 0;
        for (int i = 0; i < maps.size(); i++) {
            if (which.test(cases.get(i))) {
                double[] s = maps.get(i).sensitivity();
                for (int c = 0; c < sum.length; c++) {
                    sum[c] += Math.abs(s[c]);
                }
                count++;
            }
        }
        for (int c = 0; c < sum.length; c++) {
            sum[c] = count == 0 ? Double.NaN : sum[c] / count;
        }
        return sum;
    }
}
