package org.cxrtriage.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.cxrtriage.model.Backbone;
import org.cxrtriage.model.CxrNetworkFactory;
import org.cxrtriage.model.InputView;
import org.cxrtriage.model.TorchRuntime;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Patient-level split, preprocess once, train with early stopping, pick the threshold on "
                + "validation and save a model directory (model.json + weights + split.csv + training.json).")
final class TrainCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--manifest", description = "manifest CSV (default: $CXR_MANIFEST or ../shared/data/cxr/manifest.csv)")
    Path manifest;

    @Option(names = "--split", description = "use this split.csv instead of creating one")
    Path splitFile;

    @Option(names = "--out", defaultValue = "models/default", description = "model directory to write (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--work-dir", description = "checkpoints (default: $TMPDIR/cxr-trainer)")
    Path workDir;

    @Option(names = "--overwrite", description = "replace a trained model already in --out (refused otherwise, so that "
            + "a try-out run cannot overwrite the shipped model or its split)")
    boolean overwrite;

    @picocli.CommandLine.Mixin
    LungOptions lungOptions = new LungOptions();
    @Option(names = "--resume", description = "continue an interrupted run from the last epoch saved in --work-dir "
            + "(same options; Adam's moments restart)")
    boolean resume;

    @Option(names = "--cache-dir", description = "preprocessed-image cache (default: $TMPDIR/cxr-trainer-cache; 'none' to disable)")
    String cacheDir;

    @Option(names = "--backbone", defaultValue = "RESNET18") Backbone backbone;
    @Option(names = "--embedding-size", defaultValue = "" + CxrNetworkFactory.DEFAULT_EMBEDDING_SIZE) int embeddingSize;
    @Option(names = "--tensor-size", defaultValue = "256", description = "preprocessing size (the service's PREPROCESS_TENSOR_SIZE)") int tensorSize;
    // Defaults: the recipe of models/default 1.4.0, which 1.5.0 refit (its MODEL_CARD.md; chosen by
    // bench/gpu/results/recipe-sweep.md).
    @Option(names = "--input-size", defaultValue = "128") int inputSize;
    @Option(names = "--batch-size", defaultValue = "16") int batchSize;
    @Option(names = "--epochs", defaultValue = "80") int epochs;
    @Option(names = "--lr", defaultValue = "1e-3") float learningRate;
    @Option(names = "--lr-decay", defaultValue = "0.96", description = "LR multiplier per epoch") float lrDecay;
    @Option(names = "--weight-decay", defaultValue = "1e-4", description = "L2 coefficient") float weightDecay;
    @Option(names = "--patience", defaultValue = "20", description = "epochs without a better validation ROC AUC before stopping") int patience;
    @Option(names = "--balance", defaultValue = "source", description = "label | source") String balance;
    @Option(names = "--no-augment", negatable = false) boolean noAugment;
    @Option(names = "--augment-strength", defaultValue = "1.5", description = "multiplier of the augmentation ranges (rotation, shift, zoom, brightness, contrast, gamma)") double augmentStrength;
    @Option(names = "--ema-decay", defaultValue = "0.999", description = "average the weights and validate, checkpoint and save the average; 0 = off") double emaDecay;
    @Option(names = "--min-sensitivity", defaultValue = "0.90", description = "threshold rule; <= 0 for Youden") double minSensitivity;
    @Option(names = "--val-fraction", defaultValue = "0.15") double valFraction;
    @Option(names = "--test-fraction", defaultValue = "0.15") double testFraction;
    @Option(names = "--test-source", description = "leave-one-source-out: hold out every image of this source "
            + "(manifest column 'source') as the test split; the other sources make train and validation "
            + "(--test-fraction is ignored)") String testSource;
    @Option(names = "--seed", defaultValue = "42") long seed;
    @Option(names = "--log-every", defaultValue = "10") int logEvery;
    @Option(names = "--max-steps-per-epoch", defaultValue = "0") int maxStepsPerEpoch;
    @Option(names = "--max-minutes", defaultValue = "90", description = "training wall-clock budget; 0 = none") double maxMinutes;
    @Option(names = "--threads", defaultValue = "2", description = "PyTorch intra-op threads and preprocessing threads") int threads;
    @Option(names = "--name", defaultValue = "cxr-resnet18") String name;
    @Option(names = "--model-version", defaultValue = "1.0.0") String version;
    @Option(names = "--input-view", defaultValue = "FULL", description = "FULL (the whole X-ray, the paper's input) "
            + "or LUNGS_ONLY (the X-ray black outside the lung region, so the model cannot read what lies outside "
            + "the lungs); stored in model.json and applied wherever the model runs") InputView inputView;
    @Option(names = "--refit-threshold", description = "refit: train on train + validation for exactly --epochs epochs "
            + "(e.g. the best epoch of a validation-selected run with the same options) and ship the last epoch's "
            + "weights with this threshold (the validation-selected run's); no validation, early stopping or checkpoint "
            + "selection. The test split stays held out.")
    Double refitThreshold;

    @Override
    public Integer call() throws Exception {
        if (refitThreshold != null && !(refitThreshold > 0 && refitThreshold < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--refit-threshold must be in (0, 1), got " + refitThreshold);
        }
        TorchRuntime.configureThreads(threads, 1);
        Path manifestPath = TrainerCli.manifestPath(manifest);
        Manifest m = Manifest.read(manifestPath);
        if (splitFile != null && testSource != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--split and --test-source exclude each other");
        }
        DataSplit split = splitFile != null ? DataSplit.read(splitFile)
                : testSource != null ? heldOutSplit(m)
                : DataSplit.create(m, valFraction, testFraction, seed);
        if (!resume && !overwrite && Files.exists(out.resolve(org.cxrtriage.model.ModelDirectory.METADATA_FILE))) {
            throw new CommandLine.ParameterException(spec.commandLine(), out + " already holds a trained model ("
                    + org.cxrtriage.model.ModelDirectory.METADATA_FILE + "): choose another --out, or --overwrite to "
                    + "replace it and its split");
        }
        Files.createDirectories(out);
        split.write(out.resolve(DataSplit.FILE_NAME));
        System.out.println("manifest " + manifestPath + ": " + m.entries().size() + " images");
        System.out.println("split (seed " + seed + "): " + split.summary(m));
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Path cache = "none".equals(cacheDir) ? null : cacheDir != null ? Path.of(cacheDir) : tmp.resolve("cxr-trainer-cache");
        org.cxrtriage.imaging.LungSegmenter lungs = lungOptions.open();
        System.out.println("lung channel: " + lungs.version() + ", min lung fraction " + lungOptions.minLungFraction(lungs));
        ImageCache images = ImageCache.build(m, tensorSize, lungs, lungOptions.minLungFraction(lungs), threads, cache,
                System.out);
        TrainOptions options = new TrainOptions(backbone, embeddingSize, tensorSize, inputSize, batchSize, epochs,
                learningRate, lrDecay, weightDecay, patience, balance, !noAugment, augmentStrength, emaDecay, minSensitivity, seed, logEvery,
                maxStepsPerEpoch, maxMinutes, threads, name, version,
                refitThreshold == null ? Double.NaN : refitThreshold, inputView);
        ModelTraining.Result result = new ModelTraining(options, System.out, resume).run(m, split, images, out,
                workDir != null ? workDir : tmp.resolve("cxr-trainer"));
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("manifest", manifestPath.toString());
        report.put("split", split.summary(m));
        report.put("rejectedByPreprocessing", images.rejectedCount());
        report.put("planes", new org.cxrtriage.imaging.TensorPlanes(new org.cxrtriage.imaging.Preprocessor(
                org.cxrtriage.imaging.PreprocessConfig.ofSize(tensorSize)), lungs, lungOptions.minLungFraction(lungs))
                .fingerprint());
        report.put("options", options);
        report.put("result", result);
        if (testSource != null) {
            report.put("testSource", testSource);
        }
        new ObjectMapper().findAndRegisterModules().enable(SerializationFeature.INDENT_OUTPUT)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .writeValue(out.resolve("training.json").toFile(), report);
        return 0;
    }

    private DataSplit heldOutSplit(Manifest m) {
        try {
            return DataSplit.holdingOutSource(m, testSource, valFraction, seed);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--test-source: " + e.getMessage());
        }
    }
}
