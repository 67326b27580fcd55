package org.cxrtriage.trainer;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.LoadedModel;
import org.cxrtriage.model.LungRegion;
import org.cxrtriage.model.ModelDirectory;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.Prediction;
import org.cxrtriage.model.TorchRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Score a split with a model directory (as the inference service does) and write metrics.json "
                + "(bootstrap 95% CIs, confusion matrix, kNN over embeddings, per-source, within-ieee8023) and an "
                + "HTML report with plots.")
final class EvaluateCommand implements Callable<Integer> {
    static final String CASES_FILE = "cases.csv";
    static final String OCCLUSION_FILE = "occlusion.csv";

    @Option(names = "--model-dir", description = "model directory (default: models/default); repeat it for a "
            + "majority-vote ensemble: call = vote of the models' calls at their own thresholds (tie: mean "
            + "probability >= mean threshold), probability = mean, embedding = concatenation") List<Path> modelDirs;
    @Option(names = "--manifest", description = "default: $CXR_MANIFEST or ../shared/data/cxr/manifest.csv") Path manifest;
    @Option(names = "--split", description = "split.csv (default: <model-dir>/split.csv)") Path splitFile;
    @Option(names = "--part", defaultValue = "test", description = "train | val | test") String part;
    @Option(names = "--out", description = "output directory (default: trainer/target/evaluation)") Path out;
    @Option(names = "--tensor-size", defaultValue = "256", description = "preprocessing size, as in training") int tensorSize;
    @picocli.CommandLine.Mixin
    LungOptions lungOptions = new LungOptions();
    @Option(names = "--cache-dir", description = "default: $TMPDIR/cxr-trainer-cache; 'none' to disable") String cacheDir;
    @Option(names = "--knn", defaultValue = "4", description = "k for kNN over embeddings (train split as reference); 0 = skip") int k;
    @Option(names = "--bootstrap", defaultValue = "1000") int resamples;
    @Option(names = "--seed", defaultValue = "42") long seed;
    @Option(names = "--batch-size", defaultValue = "32") int batchSize;
    @Option(names = "--recalibrate", description = "with --part val and one model: choose the model's threshold "
            + "again by the training rule (highest validation threshold whose sensitivity is at least this) and "
            + "write it to model.json, e.g. after the lung channel changed") Double recalibrate;
    @Option(names = "--new-version", description = "the version model.json gets with --recalibrate") String newVersion;
    @Option(names = "--threads", defaultValue = "2") int threads;
    @Option(names = "--no-report", negatable = false, description = "skip the HTML/PNG report") boolean noReport;
    @Option(names = "--no-lung-ablation", negatable = false, description = "skip the shortcut check (the split "
            + "scored again with the X-ray black over the lung region, and black outside it)") boolean noLungAblation;
    @Option(names = "--occlusion-grid", defaultValue = "" + OcclusionSensitivity.DEFAULT_GRID, description = "where the "
            + "model looks: each cell of an N x N raster of the X-ray plane covered in turn and the image scored "
            + "again (N x N forward passes per image; one model only); 0 = skip (default: ${DEFAULT-VALUE})")
    int occlusionGrid;
    @Option(names = "--tsne-points", defaultValue = "500", description = "t-SNE plot of at most this many "
            + "embeddings of the split (seeded subset); 0 = none") int tsnePoints;

    @Override
    public Integer call() throws Exception {
        TorchRuntime.configureThreads(threads, 1);
        Path manifestPath = TrainerCli.manifestPath(manifest);
        Manifest m = Manifest.read(manifestPath);
        Path firstDir = modelDirs == null || modelDirs.isEmpty() ? Path.of("models/default") : modelDirs.get(0);
        DataSplit split = DataSplit.read(splitFile != null ? splitFile : firstDir.resolve(DataSplit.FILE_NAME));
        DataSplit.Part evalPart = DataSplit.Part.of(part);
        Path outDir = out != null ? out : Path.of("trainer/target/evaluation");
        Files.createDirectories(outDir);
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Path cache = "none".equals(cacheDir) ? null : cacheDir != null ? Path.of(cacheDir) : tmp.resolve("cxr-trainer-cache");
        org.cxrtriage.imaging.LungSegmenter lungs = lungOptions.open();
        System.out.println("lung channel: " + lungs.version() + ", min lung fraction " + lungOptions.minLungFraction(lungs));
        ImageCache images = ImageCache.build(m, tensorSize, lungs, lungOptions.minLungFraction(lungs), threads, cache,
                System.out);

        List<Path> dirs = modelDirs == null || modelDirs.isEmpty() ? List.of(Path.of("models/default")) : modelDirs;
        if (splitFile == null) {
            for (Path d : dirs.subList(1, dirs.size())) {
                if (!Files.readString(d.resolve(DataSplit.FILE_NAME)).equals(Files.readString(
                        dirs.get(0).resolve(DataSplit.FILE_NAME)))) {
                    throw new IllegalArgumentException("split.csv of " + d + " differs from " + dirs.get(0)
                            + " (an ensemble must share one split; pass --split to override)");
                }
            }
        }
        boolean withKnn = k > 0 && evalPart != DataSplit.Part.TRAIN;
        List<List<Evaluation.Case>> perModel = new ArrayList<>();
        List<List<Evaluation.Case>> perModelRef = new ArrayList<>();
        List<Object> metadata = new ArrayList<>();
        Map<LungAblation, List<List<Evaluation.Case>>> perModelAblated = new java.util.EnumMap<>(
                LungAblation.class);
        double[] thresholds = new double[dirs.size()];
        List<OcclusionSensitivity.ImageMap> occlusion = null;
        for (int j = 0; j < dirs.size(); j++) {
            try (LoadedModel model = ModelDirectory.loadForInference(dirs.get(j), Device.cpu());
                    CxrPredictor predictor = new CxrPredictor(model, batchSize)) {
                thresholds[j] = model.metadata().threshold();
                System.out.printf(Locale.ROOT, "model %s %s:%s (%s @%dpx), threshold %.4f%n", dirs.get(j),
                        model.metadata().name(), model.metadata().version(), model.metadata().backbone(),
                        model.metadata().inputSize(), thresholds[j]);
                if (!model.metadata().takesPlanes(images.planes())) {
                    // Allowed (it measures how a model fares on other planes), but not what the service would score.
                    System.out.println("WARNING: " + dirs.get(j) + " was trained on planes " + model.metadata().planes()
                            + ", evaluated on " + images.planes() + ": the inference service would reject these"
                            + " tensors (PLANES_MISMATCH)");
                }
                metadata.add(model.metadata());
                perModel.add(score(predictor, m, split, images, evalPart));
                if (!noLungAblation) {
                    for (LungAblation view : LungAblation.values()) {
                        perModelAblated.computeIfAbsent(view, v -> new ArrayList<>()).add(score(predictor, m, split,
                                images, evalPart, view::apply, view.id));
                    }
                }
                perModelRef.add(withKnn ? score(predictor, m, split, images, DataSplit.Part.TRAIN) : List.of());
                if (occlusionGrid > 0 && dirs.size() == 1) {
                    List<ModelInput> inputs = ModelTraining.usable(m, split, images, evalPart).stream()
                            .map(images::input).toList();
                    double[] baseline = perModel.get(0).stream().mapToDouble(Evaluation.Case::score).toArray();
                    occlusion = OcclusionSensitivity.maps(predictor, inputs, baseline, occlusionGrid, System.out);
                }
            }
        }
        boolean single = dirs.size() == 1;
        List<Evaluation.Case> cases = single ? perModel.get(0) : Evaluation.ensemble(perModel, thresholds);
        List<Evaluation.Case> reference = !withKnn ? List.of()
                : single ? perModelRef.get(0) : Evaluation.ensemble(perModelRef, thresholds);
        double threshold = single ? thresholds[0] : java.util.Arrays.stream(thresholds).average().orElse(0.5);
        if (recalibrate != null) {
            if (!single || evalPart != DataSplit.Part.VAL) {
                throw new IllegalArgumentException("--recalibrate needs one model and --part val");
            }
            threshold = recalibrate(dirs.get(0), cases, threshold, images.planes());
        }

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("model", single ? metadata.get(0) : metadata);
        if (!single) {
            report.put("ensemble", new java.util.TreeMap<>(Map.of("modelDirs", dirs.stream().map(Path::toString).toList(),
                    "thresholds", thresholds,
                    "rule", "call = majority vote of the models' calls at their own thresholds (tie: mean "
                            + "probability >= mean threshold); probability = mean; embedding = concatenation; "
                            + "'threshold' below = mean threshold (tie-break only)")));
        }
        report.put("manifest", manifestPath.toString());
        report.put("split", part);
        report.put("rejectedByPreprocessing", countRejected(m, split, images, evalPart));
        report.putAll(Evaluation.report(cases, reference, threshold, k, resamples, seed));
        report.put("calibration", Calibration.report(cases, Calibration.DEFAULT_BINS, resamples, seed));
        Map<String, List<Evaluation.Case>> ablated = new LinkedHashMap<>();
        if (!noLungAblation) {
            perModelAblated.forEach((view, casesPerModel) -> ablated.put(view.id, single ? casesPerModel.get(0)
                    : Evaluation.ensemble(casesPerModel, thresholds)));
            report.put("lungAblation", ablationReport(m, split, images, evalPart, ablated, threshold));
        }
        if (occlusion != null) {
            report.put("occlusion", OcclusionSensitivity.report(cases, occlusion, resamples, seed));
        }
        ObjectMapper json = new ObjectMapper().findAndRegisterModules().enable(SerializationFeature.INDENT_OUTPUT)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
        json.writeValue(outDir.resolve("metrics.json").toFile(), report);
        writeCases(outDir.resolve(CASES_FILE), cases, ablated, threshold);
        if (occlusion != null) {
            writeOcclusion(outDir.resolve(OCCLUSION_FILE), cases, occlusion);
        }
        System.out.println(json.writeValueAsString(summary(report)));
        if (!noReport) {
            HtmlReport.write(outDir, report, cases, ablated, occlusion, threshold, tsnePoints, seed);
        }
        System.out.println("wrote " + outDir.resolve("metrics.json") + ", " + CASES_FILE
                + (noReport ? "" : " and report.html"));
        return 0;
    }

    /** Writes the threshold the training rule picks on these (validation) cases into the model's model.json. */
    private double recalibrate(Path dir, List<Evaluation.Case> cases, double old, String planes)
            throws java.io.IOException {
        double[] scores = cases.stream().mapToDouble(Evaluation.Case::score).toArray();
        boolean[] labels = new boolean[cases.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = cases.get(i).positive();
        }
        double t = Metrics.thresholdForSensitivity(scores, labels, recalibrate);
        Path file = dir.resolve(org.cxrtriage.model.ModelDirectory.METADATA_FILE);
        org.cxrtriage.model.ModelMetadata before = org.cxrtriage.model.ModelMetadata.fromJson(Files.readString(file));
        String note = String.format(Locale.ROOT, "%s; threshold re-chosen %s on %d validation images with lung "
                + "channel %s (was %.4f): highest with sensitivity >= %.2f", before.notes(),
                java.time.LocalDate.now(java.time.ZoneOffset.UTC), cases.size(), lungOptions.kind, old, recalibrate);
        Files.writeString(file, recalibrated(before, t, newVersion, note, planes).toJson());
        System.out.printf(Locale.ROOT, "threshold %.4f -> %.4f written to %s%n", old, t, file);
        return t;
    }

    /**
     * The model's metadata with the new threshold, and the planes it was chosen on: those are the planes the model is
     * now validated for, so the inference service keeps refusing any other (PLANES_MISMATCH).
     */
    static org.cxrtriage.model.ModelMetadata recalibrated(org.cxrtriage.model.ModelMetadata before, double threshold,
                                                          String newVersion, String notes, String planes) {
        return new org.cxrtriage.model.ModelMetadata(before.name(), newVersion != null ? newVersion : before.version(),
                before.backbone(), before.inputSize(), before.embeddingSize(), threshold, before.seed(),
                before.trained(), before.createdAt(), notes, before.inputView(), planes);
    }

    private Map<String, Object> ablationReport(Manifest m, DataSplit split, ImageCache images, DataSplit.Part part,
            Map<String, List<Evaluation.Case>> ablated, double threshold) {
        double regionFraction = 0;
        List<Integer> idx = ModelTraining.usable(m, split, images, part);
        for (int i : idx) {
            boolean[] region = LungRegion.of(images.input(i));
            int on = 0;
            for (boolean b : region) {
                on += b ? 1 : 0;
            }
            regionFraction += on / (double) region.length / idx.size();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("description", "shortcut check: the same images scored with the lungs hidden and with only the lungs "
                + "shown. A model that reads the lungs loses most of its ROC AUC with them hidden; one that still "
                + "separates the classes without them reads something else (source, markers, borders)");
        out.put("lungRegion", String.format(Locale.ROOT, "lung plane >= %.2f, grown by %.2f of the image side "
                + "(%d px of %d)", LungRegion.LUNG_LEVEL / 255.0, LungRegion.MARGIN,
                Math.round(LungRegion.MARGIN * tensorSize), tensorSize));
        out.put("meanLungRegionFraction", regionFraction);
        out.put("fill", "black (0), as the preprocessing's padding; the lung plane is unchanged");
        for (LungAblation view : LungAblation.values()) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("description", view.description);
            v.putAll(Evaluation.viewReport(ablated.get(view.id), threshold, resamples, seed));
            out.put(view.id, v);
        }
        return out;
    }

    /**
     * One row per scored image: file, source, label, p(covid), the call, and p(covid) in each ablated view; for
     * audits and paired comparisons of two models on the same split. Not committed (it lists the data's files).
     */
    static void writeCases(Path file, List<Evaluation.Case> cases, Map<String, List<Evaluation.Case>> views,
            double threshold) throws java.io.IOException {
        StringBuilder csv = new StringBuilder("file,source,label,score,call");
        views.keySet().forEach(id -> csv.append(',').append(id));
        csv.append('\n');
        for (int i = 0; i < cases.size(); i++) {
            Evaluation.Case c = cases.get(i);
            csv.append(csvField(c.file())).append(',').append(csvField(c.source())).append(',')
                    .append(c.positive() ? Manifest.POSITIVE_LABEL : Manifest.NEGATIVE_LABEL).append(',')
                    .append(String.format(Locale.ROOT, "%.6f", c.score())).append(',')
                    .append(c.calledAt(threshold) ? Manifest.POSITIVE_LABEL : Manifest.NEGATIVE_LABEL);
            for (List<Evaluation.Case> view : views.values()) {
                if (!view.get(i).file().equals(c.file())) {
                    throw new IllegalStateException("views scored the images in another order");
                }
                csv.append(',').append(String.format(Locale.ROOT, "%.6f", view.get(i).score()));
            }
            csv.append('\n');
        }
        Files.writeString(file, csv);
    }

    /**
     * One row per scored image: file, label, lung share, lung area, then each cell's sensitivity (row-major), for
     * looking at single images. Not committed either.
     */
    static void writeOcclusion(Path file, List<Evaluation.Case> cases, List<OcclusionSensitivity.ImageMap> maps)
            throws java.io.IOException {
        int cells = maps.isEmpty() ? 0 : maps.get(0).sensitivity().length;
        StringBuilder csv = new StringBuilder("file,label,lungShare,lungArea");
        for (int c = 0; c < cells; c++) {
            csv.append(",cell").append(c);
        }
        csv.append('\n');
        for (int i = 0; i < cases.size(); i++) {
            Evaluation.Case c = cases.get(i);
            OcclusionSensitivity.ImageMap map = maps.get(i);
            csv.append(csvField(c.file())).append(',')
                    .append(c.positive() ? Manifest.POSITIVE_LABEL : Manifest.NEGATIVE_LABEL)
                    .append(String.format(Locale.ROOT, ",%.4f,%.4f", map.lungShare(), map.lungArea()));
            for (double v : map.sensitivity()) {
                csv.append(String.format(Locale.ROOT, ",%.5f", v));
            }
            csv.append('\n');
        }
        Files.writeString(file, csv);
    }

    private static String csvField(String value) {
        return value.contains(",") || value.contains("\"") ? "\"" + value.replace("\"", "\"\"") + "\"" : value;
    }

    private static Map<String, Object> summary(Map<String, Object> report) {
        Map<String, Object> s = new LinkedHashMap<>(report);
        s.remove("model");
        return s;
    }

    private static int countRejected(Manifest m, DataSplit split, ImageCache images, DataSplit.Part part) {
        int n = 0;
        for (int i = 0; i < m.entries().size(); i++) {
            Manifest.Entry e = m.entries().get(i);
            if (split.contains(e) && split.partOf(e) == part && images.input(i) == null) {
                n++;
            }
        }
        return n;
    }

    static List<Evaluation.Case> score(CxrPredictor predictor, Manifest m, DataSplit split, ImageCache images,
            DataSplit.Part part) {
        return score(predictor, m, split, images, part, java.util.function.UnaryOperator.identity(), part.id());
    }

    /** Scores the part's images, each seen through {@code view} (e.g. a {@link LungAblation}). */
    static List<Evaluation.Case> score(CxrPredictor predictor, Manifest m, DataSplit split, ImageCache images,
            DataSplit.Part part, java.util.function.UnaryOperator<ModelInput> view, String label) {
        List<Integer> idx = ModelTraining.usable(m, split, images, part);
        List<ModelInput> inputs = new ArrayList<>();
        for (int i : idx) {
            inputs.add(view.apply(images.input(i)));
        }
        long start = System.nanoTime();
        List<Prediction> predictions = new ArrayList<>();
        int chunk = 128;
        for (int from = 0; from < inputs.size(); from += chunk) {
            predictions.addAll(predictor.predict(inputs.subList(from, Math.min(from + chunk, inputs.size()))));
            System.out.printf(Locale.ROOT, "scoring %s: %d/%d (%.0fs)%n", label, predictions.size(), inputs.size(),
                    (System.nanoTime() - start) / 1e9);
        }
        List<Evaluation.Case> cases = new ArrayList<>();
        for (int j = 0; j < idx.size(); j++) {
            Manifest.Entry e = m.entries().get(idx.get(j));
            Prediction p = predictions.get(j);
            cases.add(new Evaluation.Case(e.file(), e.patientId(), e.source(), e.positive(), p.probability(),
                    p.embedding()));
        }
        return cases;
    }
}
