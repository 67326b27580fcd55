package org.cxrtriage.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.cxrtriage.model.LungModelDirectory;
import org.cxrtriage.model.LungModelMetadata;
import org.cxrtriage.model.TorchRuntime;
import org.cxrtriage.model.UnetLungSegmenter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train-lungs", mixinStandardHelpOptions = true,
        description = "Train the lung U-Net on the lung masks: patient-level split, hand-drawn masks only in "
                + "validation and test, planes made by the stream's Preprocessor with the masks aligned to them; "
                + "writes lung-model.json + weights + lung-split.csv + lung-training.json and prints the test Dice.")
final class TrainLungsCommand implements Callable<Integer> {
    @Option(names = "--manifest", description = "image manifest (default: $CXR_MANIFEST or ../shared/data/cxr/manifest.csv)")
    Path manifest;
    @Option(names = "--masks", description = "masks manifest (default: masks_manifest.csv beside the image manifest)")
    Path masks;
    @Option(names = "--out", defaultValue = "models/lung-unet", description = "directory to write (default: ${DEFAULT-VALUE})")
    Path out;
    @Option(names = "--tensor-size", defaultValue = "256", description = "plane size (the service's PREPROCESS_TENSOR_SIZE); Dice is measured here") int tensorSize;
    @Option(names = "--input-size", defaultValue = "128", description = "network input side; planes are resized to it and probabilities back") int inputSize;
    @Option(names = "--base-width", defaultValue = "16") int baseWidth;
    @Option(names = "--levels", defaultValue = "5") int levels;
    @Option(names = "--batch-size", defaultValue = "8") int batchSize;
    @Option(names = "--epochs", defaultValue = "60") int epochs;
    @Option(names = "--lr", defaultValue = "2e-3") float learningRate;
    @Option(names = "--lr-decay", defaultValue = "0.95", description = "LR multiplier per epoch") float lrDecay;
    @Option(names = "--val-fraction", defaultValue = "0.1") double valFraction;
    @Option(names = "--test-fraction", defaultValue = "0.2") double testFraction;
    @Option(names = "--with-lungvae", description = "also train on the model-generated (lungVAE) masks of train patients") boolean withLungVae;
    @Option(names = "--seed", defaultValue = "42") long seed;
    @Option(names = "--log-every", defaultValue = "10") int logEvery;
    @Option(names = "--max-minutes", defaultValue = "0", description = "training wall-clock budget; 0 = none") double maxMinutes;
    @Option(names = "--threads", defaultValue = "2", description = "PyTorch intra-op threads and loading threads") int threads;
    @Option(names = "--name", defaultValue = "cxr-lung-unet") String name;
    @Option(names = "--model-version", defaultValue = "1.0.0") String version;

    static final String SPLIT_FILE = "lung-split.csv";

    @Override
    public Integer call() throws Exception {
        TorchRuntime.configureThreads(threads, 1);
        Path manifestPath = TrainerCli.manifestPath(manifest);
        Manifest m = Manifest.read(manifestPath);
        Path masksCsv = masks != null ? masks : LungMasks.defaultMasksCsv(manifestPath);
        List<LungMasks.Sample> all = LungMasks.load(m, masksCsv, tensorSize, threads, System.out);
        List<Manifest.Entry> entries = new ArrayList<>();
        all.forEach(s -> entries.add(s.entry()));
        Manifest masked = new Manifest(m.directory(), entries);
        DataSplit split = DataSplit.create(masked, valFraction, testFraction, seed);
        Files.createDirectories(out);
        split.write(out.resolve(SPLIT_FILE));
        List<LungMasks.Sample> train = new ArrayList<>();
        List<LungMasks.Sample> val = new ArrayList<>();
        List<LungMasks.Sample> test = new ArrayList<>();
        for (LungMasks.Sample s : all) {
            switch (split.partOf(s.entry())) {
                case TRAIN -> {
                    if (s.handDrawn() || withLungVae) {
                        train.add(s);
                    }
                }
                case VAL -> {
                    if (s.handDrawn()) {
                        val.add(s);
                    }
                }
                case TEST -> {
                    if (s.handDrawn()) {
                        test.add(s);
                    }
                }
            }
        }
        String splitSummary = String.format(java.util.Locale.ROOT,
                "%d masked images (%d hand-drawn) of %d patients; train %d, val %d, test %d (hand-drawn only in val/test)",
                all.size(), all.stream().filter(LungMasks.Sample::handDrawn).count(),
                all.stream().map(LungMasks.Sample::patientId).distinct().count(), train.size(), val.size(), test.size());
        System.out.println("split (seed " + seed + ", by patient): " + splitSummary);
        LungTraining.Options options = new LungTraining.Options(inputSize, baseWidth, levels, batchSize, epochs,
                learningRate, lrDecay, seed, logEvery, maxMinutes, name, version);
        LungTraining.Result result = new LungTraining(options, System.out).run(train, val, out);

        LungEvaluation.Summary testSummary;
        try (UnetLungSegmenter best = UnetLungSegmenter.load(out)) {
            testSummary = LungEvaluation.evaluate(test, best);
        }
        System.out.println("test (hand-drawn, " + best(result) + "): " + testSummary.line());
        LungModelMetadata finalMeta = result.metadata().withResult(true, testSummary.mean(), String.format(
                java.util.Locale.ROOT, "trained on %d hand-drawn%s lung masks (patient-level split, seed %d), best epoch"
                        + " %d (val Dice %.4f); test Dice on %d held-out hand-drawn masks at %d px: mean %.4f, min %.4f;"
                        + " see MODEL_CARD.md", train.size(), withLungVae ? " + lungVAE" : "", seed,
                result.bestEpoch(), result.bestValDice(), testSummary.n(), tensorSize, testSummary.mean(),
                testSummary.min()));
        try (LungModelDirectory.Loaded best = LungModelDirectory.load(out, ai.djl.Device.cpu())) {
            // rewrite the metadata only: the weights stay the checkpoint's bytes
            Files.writeString(out.resolve(LungModelDirectory.METADATA_FILE), finalMeta.toJson());
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("manifest", manifestPath.toString());
        report.put("masks", masksCsv.toString());
        report.put("split", splitSummary);
        report.put("tensorSize", tensorSize);
        report.put("options", options);
        report.put("result", result);
        report.put("test", testSummary);
        new ObjectMapper().findAndRegisterModules().enable(SerializationFeature.INDENT_OUTPUT)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .writeValue(out.resolve("lung-training.json").toFile(), report);
        System.out.printf(java.util.Locale.ROOT, "saved %s to %s (training %s)%n", finalMeta.id(), out,
                ModelTraining.hms(result.trainSeconds()));
        return 0;
    }

    private static String best(LungTraining.Result r) {
        return "best epoch " + r.bestEpoch();
    }
}
