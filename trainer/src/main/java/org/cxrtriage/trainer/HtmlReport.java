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
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** report.html + roc.png + scores.png next to metrics.json. */
final class HtmlReport {
    private HtmlReport() {}

    static void write(Path dir, Map<String, Object> report, List<Evaluation.Case> cases, double threshold)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart roc = new XYChartBuilder().width(560).height(480).title("ROC").xAxisTitle("1 - specificity")
                .yAxisTitle("sensitivity").build();
        roc.getStyler().setXAxisDecimalPattern("0.0");
        roc.getStyler().setYAxisDecimalPattern("0.0");
        roc.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        addRoc(roc, "all (" + cases.size() + ")", cases);
        List<Evaluation.Case> hard = cases.stream().filter(c -> Evaluation.HARD_SOURCE.equals(c.source()))
                .collect(Collectors.toList());
        if (hard.stream().anyMatch(Evaluation.Case::positive) && hard.stream().anyMatch(c -> !c.positive())) {
            addRoc(roc, "within " + Evaluation.HARD_SOURCE + " (" + hard.size() + ")", hard);
        }
        roc.addSeries("chance", new double[] {0, 1}, new double[] {0, 1}).setMarker(SeriesMarkers.NONE);
        BitmapEncoder.saveBitmap(roc, dir.resolve("roc.png").toString(), BitmapEncoder.BitmapFormat.PNG);

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
                + "<img src=\"roc.png\" alt=\"ROC\"> <img src=\"scores.png\" alt=\"score histogram\">"
                + "<h2>metrics.json</h2><pre>" + escape(json) + "</pre></body></html>";
        Files.writeString(dir.resolve("report.html"), html, StandardCharsets.UTF_8);
    }

    private static void addRoc(XYChart chart, String name, List<Evaluation.Case> cases) {
        List<double[]> pts = Metrics.rocCurve(Evaluation.scores(cases), Evaluation.labels(cases));
        double[] x = pts.stream().mapToDouble(p -> p[0]).toArray();
        double[] y = pts.stream().mapToDouble(p -> p[1]).toArray();
        chart.addSeries(String.format(java.util.Locale.ROOT, "%s AUC %.3f", name,
                Metrics.rocAuc(Evaluation.scores(cases), Evaluation.labels(cases))), x, y)
                .setMarker(SeriesMarkers.NONE);
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
