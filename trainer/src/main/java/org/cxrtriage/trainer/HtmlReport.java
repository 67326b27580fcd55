package org.cxrtriage.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** report.html + roc.png + pr.png + scores.png (+ tsne.png, tsne-source.png) next to metrics.json. */
final class HtmlReport {
    private HtmlReport() {}

    /**
     * @param views the same images scored through other views ({@link LungAblation}), by view id; each gets a curve
     *     in lung-ablation.png beside the plain scores; empty = no such plot
     * @param occlusion occlusion maps of the cases, in their order ({@link OcclusionSensitivity}); null = none
     * @param tsnePoints at most this many cases (a seeded random subset) in the t-SNE plots of the embeddings;
     *     0 = no t-SNE
     */
    static void write(Path dir, Map<String, Object> report, List<Evaluation.Case> cases,
            Map<String, List<Evaluation.Case>> views, List<OcclusionSensitivity.ImageMap> occlusion, double threshold,
            int tsnePoints, long seed) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart roc = rocChart("ROC");
        addRoc(roc, "all (" + cases.size() + ")", cases);
        List<Evaluation.Case> hard = cases.stream().filter(c -> Evaluation.HARD_SOURCE.equals(c.source()))
                .collect(Collectors.toList());
        if (hard.stream().anyMatch(Evaluation.Case::positive) && hard.stream().anyMatch(c -> !c.positive())) {
            addRoc(roc, "within " + Evaluation.HARD_SOURCE + " (" + hard.size() + ")", hard);
        }
        roc.addSeries("chance", new double[] {0, 1}, new double[] {0, 1}).setMarker(SeriesMarkers.NONE);
        BitmapEncoder.saveBitmap(roc, dir.resolve("roc.png").toString(), BitmapEncoder.BitmapFormat.PNG);

        XYChart pr = new XYChartBuilder().width(560).height(480).title("Precision-recall").xAxisTitle("recall (sensitivity)")
                .yAxisTitle("precision (PPV)").build();
        pr.getStyler().setXAxisDecimalPattern("0.0");
        pr.getStyler().setYAxisDecimalPattern("0.0");
        pr.getStyler().setYAxisMin(0.0);
        pr.getStyler().setYAxisMax(1.0);
        pr.getStyler().setLegendPosition(Styler.LegendPosition.InsideSW);
        addPr(pr, "all (" + cases.size() + ")", cases);
        if (hard.stream().anyMatch(Evaluation.Case::positive) && hard.stream().anyMatch(c -> !c.positive())) {
            addPr(pr, "within " + Evaluation.HARD_SOURCE + " (" + hard.size() + ")", hard);
        }
        double prevalence = cases.isEmpty() ? 0 : cases.stream().filter(Evaluation.Case::positive).count()
                / (double) cases.size();
        pr.addSeries(String.format(java.util.Locale.ROOT, "prevalence %.2f", prevalence), new double[] {0, 1},
                new double[] {prevalence, prevalence}).setMarker(SeriesMarkers.NONE);
        BitmapEncoder.saveBitmap(pr, dir.resolve("pr.png").toString(), BitmapEncoder.BitmapFormat.PNG);

        if (!views.isEmpty()) {
            XYChart ablation = rocChart("ROC: what the model reads");
            addRoc(ablation, "as preprocessed", cases);
            views.forEach((id, viewCases) -> addRoc(ablation, id, viewCases));
            ablation.addSeries("chance", new double[] {0, 1}, new double[] {0, 1}).setMarker(SeriesMarkers.NONE);
            BitmapEncoder.saveBitmap(ablation, dir.resolve("lung-ablation.png").toString(),
                    BitmapEncoder.BitmapFormat.PNG);
        }

        writeCalibration(dir, cases);

        if (occlusion != null) {
            writeOcclusion(dir, cases, occlusion);
        }

        boolean tsne = tsnePoints > 1 && cases.size() > 3 && cases.stream().allMatch(c -> c.embedding() != null
                && c.embedding().length > 0);
        if (tsne) {
            writeTsne(dir, cases, tsnePoints, seed);
        }

        int bins = 20;
        List<String> labels = new ArrayList<>();
        double[] pos = new double[bins];
        double[] neg = new double[bins];
        for (int b = 0; b < bins; b++) {
            labels.add(String.format(java.util.Locale.ROOT, "%.2f", (b + 0.5) / bins));
        }
        for (Evaluation.Case c : cases) {
            int b = Math.min(bins - 1, (int) (c.score() * bins));
            if (c.positive()) {
                pos[b]++;
            } else {
                neg[b]++;
            }
        }
        CategoryChart hist = new CategoryChartBuilder().width(720).height(400)
                .title(String.format(java.util.Locale.ROOT, "p(covid) by label (threshold %.3f)", threshold))
                .xAxisTitle("p(covid)").yAxisTitle("images").build();
        hist.getStyler().setOverlapped(true);
        hist.getStyler().setXAxisLabelRotation(90);
        hist.addSeries("negative", labels, toList(neg));
        hist.addSeries("covid", labels, toList(pos));
        BitmapEncoder.saveBitmap(hist, dir.resolve("scores.png").toString(), BitmapEncoder.BitmapFormat.PNG);

        String json = new ObjectMapper().findAndRegisterModules().enable(SerializationFeature.INDENT_OUTPUT)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).writeValueAsString(report);
        String html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>CXR evaluation</title></head><body>"
                + "<h1>CXR classifier evaluation (" + report.get("split") + " split)</h1>"
                + "<p>Source confounding: most negatives come from one hospital (NIH), so metrics on a random split "
                + "largely measure <em>source</em>. The within-" + Evaluation.HARD_SOURCE
                + " contrast is the more honest number.</p>"
                + "<img src=\"roc.png\" alt=\"ROC\"> <img src=\"pr.png\" alt=\"precision-recall\"> "
                + "<img src=\"scores.png\" alt=\"score histogram\">"
                + "<h2>Calibration: can p(covid) be read as a probability?</h2><p>Each point is a bin of the "
                + "scores (width 0.1): its mean p(covid) against the share of COVID-19 images in it; a calibrated "
                + "model lies on the diagonal. <code>calibration</code> in metrics.json below has the Brier score, "
                + "the expected calibration error and the recalibration slope with CIs. They hold at this split's "
                + "positive rate.</p><img src=\"calibration.png\" alt=\"reliability diagram\">"
                + (views.isEmpty() ? "" : "<h2>Shortcut check: lungs hidden, lungs only</h2><p>The same images "
                        + "scored with the X-ray plane blacked out over the lungs (lungsHidden) or outside them "
                        + "(lungsOnly); <code>lungAblation</code> in metrics.json below has the figures with CIs. A "
                        + "model that reads the lungs loses most of its ROC AUC with them hidden.</p><img src=\"lung-ablation.png\" alt=\"ROC by view\">")
                + (occlusion == null ? "" : "<h2>Where the model looks: occlusion sensitivity</h2><p>Each cell of "
                        + "the X-ray plane covered in turn with its mean gray; the maps show the mean |change of "
                        + "p(covid)| per cell, and the mean lung region. <code>occlusion</code> in metrics.json below "
                        + "gives the part of the change that falls inside the lungs (lungShare) against the lungs' "
                        + "part of the image (lungArea).</p><img src=\"occlusion.png\" alt=\"occlusion maps\">")
                + (tsne ? "<h2>t-SNE of the embeddings</h2><p>Exact t-SNE (perplexity 30, 1,000 iterations, seed "
                        + seed + ") of the last-hidden-layer embeddings of up to " + tsnePoints + " cases of this "
                        + "split, coloured by label and by source.</p><img src=\"tsne.png\" alt=\"t-SNE by label\"> "
                        + "<img src=\"tsne-source.png\" alt=\"t-SNE by source\">" : "")
                + "<h2>metrics.json</h2><pre>" + escape(json) + "</pre></body></html>";
        Files.writeString(dir.resolve("report.html"), html, StandardCharsets.UTF_8);
    }

    private static XYChart rocChart(String title) {
        XYChart chart = new XYChartBuilder().width(560).height(480).title(title).xAxisTitle("1 - specificity")
                .yAxisTitle("sensitivity").build();
        chart.getStyler().setXAxisDecimalPattern("0.0");
        chart.getStyler().setYAxisDecimalPattern("0.0");
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        return chart;
    }

    private static void addRoc(XYChart chart, String name, List<Evaluation.Case> cases) {
        List<double[]> pts = Metrics.rocCurve(Evaluation.scores(cases), Evaluation.labels(cases));
        double[] x = pts.stream().mapToDouble(p -> p[0]).toArray();
        double[] y = pts.stream().mapToDouble(p -> p[1]).toArray();
        chart.addSeries(String.format(java.util.Locale.ROOT, "%s AUC %.3f", name,
                Metrics.rocAuc(Evaluation.scores(cases), Evaluation.labels(cases))), x, y)
                .setMarker(SeriesMarkers.NONE);
    }

    private static void addPr(XYChart chart, String name, List<Evaluation.Case> cases) {
        double[] s = Evaluation.scores(cases);
        boolean[] l = Evaluation.labels(cases);
        List<double[]> pts = Metrics.prCurve(s, l);
        double[] x = pts.stream().mapToDouble(p -> p[0]).toArray();
        double[] y = pts.stream().mapToDouble(p -> p[1]).toArray();
        chart.addSeries(String.format(java.util.Locale.ROOT, "%s AP %.3f", name, Metrics.prAuc(s, l)), x, y)
                .setMarker(SeriesMarkers.NONE);
    }

    /** t-SNE of the embeddings (a seeded subset of at most maxPoints cases): by label and by source. */
    static void writeTsne(Path dir, List<Evaluation.Case> cases, int maxPoints, long seed) throws IOException {
        List<Evaluation.Case> subset = new ArrayList<>(cases);
        if (subset.size() > maxPoints) {
            java.util.Collections.shuffle(subset, new java.util.Random(seed));
            subset = new ArrayList<>(subset.subList(0, maxPoints));
        }
        double[][] x = new double[subset.size()][];
        for (int i = 0; i < x.length; i++) {
            float[] e = subset.get(i).embedding();
            x[i] = new double[e.length];
            for (int j = 0; j < e.length; j++) {
                x[i][j] = e[j];
            }
        }
        double[][] y = Tsne.defaults(seed).fit(x);
        Map<String, List<Integer>> byLabel = new java.util.TreeMap<>();
        Map<String, List<Integer>> bySource = new java.util.TreeMap<>();
        for (int i = 0; i < subset.size(); i++) {
            Evaluation.Case c = subset.get(i);
            byLabel.computeIfAbsent(c.positive() ? "covid" : "negative", k -> new ArrayList<>()).add(i);
            bySource.computeIfAbsent(c.source() + (c.positive() ? " covid" : " negative"), k -> new ArrayList<>())
                    .add(i);
        }
        scatter(dir.resolve("tsne.png"), "t-SNE of embeddings by label (" + subset.size() + " cases)", byLabel, y);
        scatter(dir.resolve("tsne-source.png"), "t-SNE of embeddings by source and label", bySource, y);
    }

    private static void scatter(Path file, String title, Map<String, List<Integer>> series, double[][] y)
            throws IOException {
        XYChart chart = new XYChartBuilder().width(640).height(560).title(title).xAxisTitle("t-SNE 1")
                .yAxisTitle("t-SNE 2").build();
        chart.getStyler().setDefaultSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(6);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        series.forEach((name, idx) -> chart.addSeries(name + " (" + idx.size() + ")",
                idx.stream().mapToDouble(i -> y[i][0]).toArray(), idx.stream().mapToDouble(i -> y[i][1]).toArray()));
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** calibration.png: the reliability diagram (bins of {@link Calibration#DEFAULT_BINS} with cases) and the diagonal. */
    static void writeCalibration(Path dir, List<Evaluation.Case> cases) throws IOException {
        List<Calibration.Bin> bins = Calibration.bins(Evaluation.scores(cases), Evaluation.labels(cases),
                Calibration.DEFAULT_BINS).stream().filter(b -> b.n() > 0).toList();
        XYChart chart = new XYChartBuilder().width(560).height(480).title("Reliability (bins of 0.1)")
                .xAxisTitle("mean p(covid) in the bin").yAxisTitle("COVID-19 share in the bin").build();
        chart.getStyler().setXAxisMin(0.0);
        chart.getStyler().setXAxisMax(1.0);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        chart.getStyler().setXAxisDecimalPattern("0.0");
        chart.getStyler().setYAxisDecimalPattern("0.0");
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        if (!bins.isEmpty()) {
            chart.addSeries("model (" + cases.size() + " images)",
                    bins.stream().mapToDouble(Calibration.Bin::meanPredicted).toArray(),
                    bins.stream().mapToDouble(Calibration.Bin::observed).toArray());
        }
        chart.addSeries("calibrated", new double[] {0, 1}, new double[] {0, 1}).setMarker(SeriesMarkers.NONE);
        BitmapEncoder.saveBitmap(chart, dir.resolve("calibration.png").toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /**
     * occlusion.png: mean |sensitivity| per cell for COVID-19 and negative images (one colour scale for both), and the
     * mean lung region.
     */
    static void writeOcclusion(Path dir, List<Evaluation.Case> cases, List<OcclusionSensitivity.ImageMap> maps)
            throws IOException {
        int grid = maps.isEmpty() ? OcclusionSensitivity.DEFAULT_GRID : maps.get(0).grid();
        double[] covid = OcclusionSensitivity.meanAbsMap(cases, maps, Evaluation.Case::positive);
        double[] negative = OcclusionSensitivity.meanAbsMap(cases, maps, c -> !c.positive());
        double max = java.util.stream.DoubleStream.concat(java.util.Arrays.stream(covid),
                java.util.Arrays.stream(negative)).filter(v -> !Double.isNaN(v)).max().orElse(1);
        List<HeatMapChart> charts = List.of(
                heatMap("mean |Δ p(covid)|, covid", covid, grid, max),
                heatMap("mean |Δ p(covid)|, negative", negative, grid, max),
                heatMap("lung region, mean part of cell", OcclusionSensitivity.meanLungMap(maps), grid, 1));
        int width = 400;
        java.awt.image.BufferedImage row = new java.awt.image.BufferedImage(charts.size() * width, 420,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = row.createGraphics();
        for (int i = 0; i < charts.size(); i++) {
            g.drawImage(BitmapEncoder.getBufferedImage(charts.get(i)), i * width, 0, null);
        }
        g.dispose();
        javax.imageio.ImageIO.write(row, "png", dir.resolve("occlusion.png").toFile());
    }

    /** A grid x grid heat map, image orientation (row 0 at the top), colours from 0 to {@code max}. */
    private static HeatMapChart heatMap(String title, double[] cells, int grid, double max) {
        HeatMapChart chart = new HeatMapChartBuilder().width(400).height(420)
                .title(String.format(java.util.Locale.ROOT, "%s (dark = %.3f)", title, max)).build();
        chart.getStyler().setShowValue(false);
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setMin(0);
        chart.getStyler().setMax(max > 0 ? max : 1);
        chart.setXAxisTitle("image column");
        chart.setYAxisTitle("image row (0 = top)");
        List<Number[]> values = new ArrayList<>();
        List<String> columns = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        for (int k = 0; k < grid; k++) {
            columns.add(String.valueOf(k));
            rows.add(String.valueOf(grid - 1 - k)); // heat map rows count upwards; an image's row 0 is its top
        }
        for (int row = 0; row < grid; row++) {
            for (int col = 0; col < grid; col++) {
                double v = cells[row * grid + col];
                values.add(new Number[] {col, grid - 1 - row, Double.isNaN(v) ? 0 : v});
            }
        }
        chart.addSeries("cells", columns, rows, values);
        return chart;
    }

    private static List<Double> toList(double[] v) {
        List<Double> out = new ArrayList<>();
        for (double d : v) {
            out.add(d);
        }
        return out;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
