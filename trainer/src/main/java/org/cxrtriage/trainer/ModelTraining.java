package org.cxrtriage.trainer;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.cxrtriage.model.BatchNormFolding;
import org.cxrtriage.model.CxrNetworkFactory;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.InputEncoder;
import org.cxrtriage.model.LoadedModel;
import org.cxrtriage.model.ModelDirectory;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.ModelMetadata;
import org.cxrtriage.model.Prediction;
import org.cxrtriage.model.TorchRuntime;

/**
 * Trains the classifier with DJL: Adam + exponential LR decay + L2, softmax cross-entropy on the logits,
 * class/source-balanced sampling, train-only augmentation, early stopping on validation ROC AUC with a
 * checkpoint of the best epoch; then picks the decision threshold on the validation split (scored through
 * {@link CxrPredictor}, i.e. the same path the inference service uses) and saves the model directory.
 */
public final class ModelTraining {
    /** One epoch's summary. */
    public record EpochStats(int epoch, double trainLoss, double trainAccuracy, double valAuc, double valAccuracy,
            double learningRate, double seconds) {}

    /** Outcome of a run. */
    public record Result(ModelMetadata metadata, int bestEpoch, double bestValAuc, double threshold,
            String thresholdRule, List<EpochStats> history, double trainSeconds, int trainImages, int valImages) {}

    /**
     * Where an interrupted run stands, written to {@code workDir/progress.json} after every epoch next to the weights
     * of that epoch ({@code workDir/last}). {@code fingerprint} holds the options that shape the run: a resume with
     * other ones is refused.
     */
    record Progress(String fingerprint, int epoch, int step, int bestEpoch, double bestAuc, int badEpochs,
            double trainSeconds, List<EpochStats> history) {}

    static final String PROGRESS_FILE = "progress.json";
    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

    private final TrainOptions options;
    private final PrintStream log;
    private final boolean resume;

    public ModelTraining(TrainOptions options, PrintStream log) {
        this(options, log, false);
    }

    /**
     * @param resume continue from the last completed epoch in the work directory, if there is one: its weights,
     *     step count (so the learning-rate schedule and the per-epoch batch draws continue exactly), best epoch and
     *     early-stopping count. Adam's moment estimates are not saved by DJL and start again from zero.
     */
    public ModelTraining(TrainOptions options, PrintStream log, boolean resume) {
        this.options = options;
        this.log = log;
        this.resume = resume;
    }

    /** The options that determine the trajectory (not the epoch count, budget, patience or logging). */
    private String fingerprint(int trainImages) {
        TrainOptions o = options;
        String base = String.format(Locale.ROOT, "%s/%d/%d/%d/%d/%s/%s/%s/%s/%b/%d/%d/train=%d", o.backbone(),
                o.embeddingSize(), o.tensorSize(), o.inputSize(), o.batchSize(), o.learningRate(), o.lrDecay(),
                o.weightDecay(), o.balance(), o.augment(), o.seed(), o.maxStepsPerEpoch(), trainImages);
        // Runs with the defaults keep the fingerprint they had before these options existed.
        return base + (o.augmentStrength() == 1 ? "" : "/augment=" + o.augmentStrength())
                + (o.emaDecay() == 0 ? "" : "/ema=" + o.emaDecay()) + (o.refit() ? "/refit" : "")
                + (o.inputView() == org.cxrtriage.model.InputView.FULL ? "" : "/view=" + o.inputView());
    }

    public Result run(Manifest manifest, DataSplit split, ImageCache cache, Path outDir, Path workDir)
            throws IOException {
        List<Integer> train = usable(manifest, split, cache, DataSplit.Part.TRAIN);
        List<Integer> val = usable(manifest, split, cache, DataSplit.Part.VAL);
        if (train.isEmpty() || val.isEmpty()) {
            throw new IllegalStateException("empty train or validation split");
        }
        boolean refit = options.refit();
        if (refit) {
            // The final step after the recipe and the epoch count were chosen on validation: fit on all of it.
            train = new ArrayList<>(train);
            train.addAll(val);
            train.sort(null);
            val = List.of();
        }
        boolean[] labels = new boolean[manifest.entries().size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = manifest.entries().get(i).positive();
        }
        double[] weights = samplingWeights(manifest, train, options.balance());
        int stepsPerEpoch = Math.max(1, train.size() / options.batchSize());
        if (options.maxStepsPerEpoch() > 0) {
            stepsPerEpoch = Math.min(stepsPerEpoch, options.maxStepsPerEpoch());
        }
        int totalSteps = stepsPerEpoch * options.epochs();
        log.printf(Locale.ROOT, "train: %d images, val: %d images; %d epochs x %d steps of %d @%dpx, %s sampling%s%n",
                train.size(), val.size(), options.epochs(), stepsPerEpoch, options.batchSize(), options.inputSize(),
                options.balance(), refit ? String.format(Locale.ROOT, "; refit on train + validation, the last "
                        + "epoch ships with threshold %.4f", options.refitThreshold()) : "");

        ModelMetadata metadata = new ModelMetadata(options.name(), options.version(), options.backbone(),
                options.inputSize(), options.embeddingSize(), ModelDirectory.DEFAULT_THRESHOLD, options.seed(), false,
                Instant.now().truncatedTo(ChronoUnit.MILLIS), "training", options.inputView(), cache.planes());
        Path checkpoint = workDir.resolve("best");
        Path last = workDir.resolve("last");
        Path progressFile = workDir.resolve(PROGRESS_FILE);
        String fingerprint = fingerprint(train.size());
        Progress resumed = null;
        if (resume && Files.isRegularFile(progressFile)) {
            resumed = JSON.readValue(progressFile.toFile(), Progress.class);
            if (!resumed.fingerprint().equals(fingerprint)) {
                throw new IllegalArgumentException("cannot resume: " + progressFile + " was written by a run with "
                        + "other options (" + resumed.fingerprint() + ", now " + fingerprint + ")");
            }
            log.printf(Locale.ROOT, "resuming after epoch %d (step %d, best epoch %d, val AUC %.4f) from %s%n",
                    resumed.epoch(), resumed.step(), resumed.bestEpoch(), resumed.bestAuc(), workDir);
        } else {
            if (resume) {
                log.println("nothing to resume in " + workDir + "; starting from epoch 1");
            }
            clearWeights(checkpoint);
            clearWeights(last);
            Files.deleteIfExists(progressFile);
        }
        Augmenter augmenter = options.augment() ? Augmenter.defaults().scaled(options.augmentStrength())
                : Augmenter.none();
        // A step's data (augment + encode) is prepared on another thread while the previous step runs.
        ExecutorService loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "batch-loader");
            t.setDaemon(true);
            return t;
        });
        List<EpochStats> history = new ArrayList<>(resumed == null ? List.of() : resumed.history());
        int bestEpoch = resumed == null ? -1 : resumed.bestEpoch();
        double bestAuc = resumed == null ? Double.NEGATIVE_INFINITY : resumed.bestAuc();
        int firstEpoch = resumed == null ? 1 : resumed.epoch() + 1;
        // Wall-clock of the interrupted part counts towards the budget and the reported training time.
        long start = System.nanoTime() - (resumed == null ? 0 : (long) (resumed.trainSeconds() * 1e9));
        int sample = InputEncoder.CHANNELS * options.inputSize() * options.inputSize();
        try (LoadedModel lm = resumed == null ? ModelDirectory.initialise(metadata, Device.cpu())
                : ModelDirectory.load(last, Device.cpu())) {
            Model model = lm.model();
            if (resumed != null) {
                // Loaded for inference (frozen): make the learned parameters trainable again, not BatchNorm's
                // running statistics, which PyTorch refuses to differentiate.
                model.getBlock().freezeParameters(false, p -> p.getType() != ai.djl.nn.Parameter.Type.RUNNING_MEAN
                        && p.getType() != ai.djl.nn.Parameter.Type.RUNNING_VAR);
            }
            int stepsDone = resumed == null ? 0 : resumed.step();
            // Per-step factor so the LR is multiplied by lrDecay once per epoch, smoothly; a resumed run starts
            // where the schedule stood (the tracker counts its own updates from zero).
            float stepFactor = (float) Math.pow(options.lrDecay(), 1.0 / stepsPerEpoch);
            Optimizer adam = Optimizer.adam()
                    .optLearningRateTracker(Tracker.factor().setBaseValue(
                                    (float) (options.learningRate() * Math.pow(stepFactor, stepsDone)))
                            .setFactor(stepFactor).build())
                    .optWeightDecays(options.weightDecay())
                    .optClipGrad(5f)
                    .build();
            DefaultTrainingConfig config = new DefaultTrainingConfig(new LogitsLoss())
                    .optOptimizer(adam)
                    .optDevices(new Device[] {Device.cpu()});
            TorchRuntime.engine().setRandomSeed((int) options.seed()); // dropout masks
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(options.batchSize(), InputEncoder.CHANNELS, options.inputSize(),
                        options.inputSize()));
                // A resumed run starts the average again from the resumed weights (like Adam's moments).
                WeightAverage average = options.emaDecay() > 0
                        ? new WeightAverage(model.getBlock().getParameters(), options.emaDecay()) : null;
                int step = stepsDone;
                int badEpochs = resumed == null ? 0 : resumed.badEpochs();
                for (int epoch = firstEpoch; epoch <= options.epochs(); epoch++) {
                    long epochStart = System.nanoTime();
                    SplittableRandom rnd = new SplittableRandom(options.seed() * 1_000_003L + epoch);
                    int[][] batches = drawBatches(train, weights, stepsPerEpoch, options.batchSize(), rnd);
                    SplittableRandom augRnd = rnd.split();
                    CompletableFuture<Batch> next = CompletableFuture.supplyAsync(
                            () -> makeBatch(cache, labels, batches[0], augmenter, augRnd.split(), sample), loader);
                    double lossSum = 0;
                    int correct = 0;
                    int seen = 0;
                    double windowLoss = 0;
                    long waitNanos = 0;
                    long forwardNanos = 0;
                    long stepNanos = 0;
                    int windowSteps = 0;
                    for (int b = 0; b < batches.length; b++) {
                        long t0 = System.nanoTime();
                        Batch batch = next.join();
                        long t1 = System.nanoTime();
                        waitNanos += t1 - t0;
                        if (b + 1 < batches.length) {
                            int[] nb = batches[b + 1];
                            SplittableRandom r = augRnd.split();
                            next = CompletableFuture.supplyAsync(
                                    () -> makeBatch(cache, labels, nb, augmenter, r, sample), loader);
                        }
                        float lossValue;
                        try (NDManager m = trainer.getManager().newSubManager()) {
                            NDArray x = m.create(batch.data(), new Shape(batch.labels().length,
                                    InputEncoder.CHANNELS, options.inputSize(), options.inputSize()));
                            NDArray y = m.create(batch.labels());
                            try (GradientCollector gc = trainer.newGradientCollector()) {
                                NDList out = trainer.forward(new NDList(x));
                                NDArray loss = trainer.getLoss().evaluate(new NDList(y), out);
                                gc.backward(loss);
                                lossValue = loss.getFloat();
                                long t2 = System.nanoTime();
                                forwardNanos += t2 - t1;
                                long[] pred = out.get(CxrNetworkFactory.LOGITS).argMax(1).toLongArray();
                                for (int i = 0; i < pred.length; i++) {
                                    if (pred[i] == batch.labels()[i]) {
                                        correct++;
                                    }
                                }
                            }
                            long t3 = System.nanoTime();
                            trainer.step();
                            if (average != null) {
                                average.update();
                            }
                            stepNanos += System.nanoTime() - t3;
                        }
                        step++;
                        seen += batch.labels().length;
                        lossSum += lossValue * batch.labels().length;
                        windowLoss += lossValue;
                        windowSteps++;
                        if (options.logEvery() > 0 && (step % options.logEvery() == 0 || b == batches.length - 1)) {
                            double elapsed = (System.nanoTime() - start) / 1e9;
                            double perStep = elapsed / step;
                            log.printf(Locale.ROOT,
                                    "epoch %d step %d/%d (total %d/%d) loss %.4f lr %.2e elapsed %s ETA %s"
                                            + " [per step: data wait %.2fs, fwd+bwd %.2fs, update %.2fs]%n",
                                    epoch, b + 1, batches.length, step, totalSteps, windowLoss / windowSteps,
                                    currentLr(stepFactor, step), hms(elapsed),
                                    hms(perStep * (totalSteps - step)), waitNanos / 1e9 / windowSteps,
                                    forwardNanos / 1e9 / windowSteps, stepNanos / 1e9 / windowSteps);
                            waitNanos = 0;
                            forwardNanos = 0;
                            stepNanos = 0;
                            windowLoss = 0;
                            windowSteps = 0;
                        }
                    }
                    // Validation and the best checkpoint use the averaged weights when there are any.
                    WeightAverage.Applied averaged = average == null ? () -> { } : average.apply();
                    double auc = Double.NaN;
                    double acc = Double.NaN;
                    if (!refit) {
                        double[] valScores = score(trainer, cache, val, sample);
                        boolean[] valLabels = select(labels, val);
                        auc = Metrics.rocAuc(valScores, valLabels);
                        acc = Metrics.confusion(valScores, valLabels, 0.5).accuracy();
                    }
                    EpochStats stats = new EpochStats(epoch, lossSum / seen, correct / (double) seen, auc, acc,
                            currentLr(stepFactor, step), (System.nanoTime() - epochStart) / 1e9);
                    history.add(stats);
                    // A refit has nothing to select on: the checkpoint is always the latest epoch.
                    boolean improved = refit || auc > bestAuc;
                    log.printf(Locale.ROOT,
                            "epoch %d/%d: train loss %.4f acc %.3f | %s | %.0fs%s%n", epoch,
                            options.epochs(), stats.trainLoss(), stats.trainAccuracy(), refit ? "refit, no validation"
                                    : String.format(Locale.ROOT, "val AUC %.4f acc@0.5 %.3f", auc, acc),
                            stats.seconds(), refit ? "" : improved ? " * best, checkpoint saved" : "");
                    if (improved) {
                        bestAuc = auc;
                        bestEpoch = epoch;
                        badEpochs = 0;
                        saveWeights(checkpoint, model, metadata.withTrained(true, "checkpoint epoch " + epoch));
                    } else {
                        badEpochs++;
                    }
                    averaged.close();
                    double elapsed = (System.nanoTime() - start) / 1e9;
                    // The epoch's weights, then the progress that points at them: a crash in between resumes
                    // from the epoch before, never from weights newer than the progress says.
                    saveWeights(last, model, metadata.withTrained(true, "epoch " + epoch));
                    Path tmpProgress = workDir.resolve(PROGRESS_FILE + ".tmp");
                    JSON.writeValue(tmpProgress.toFile(), new Progress(fingerprint, epoch, step, bestEpoch, bestAuc,
                            badEpochs, elapsed, history));
                    Files.move(tmpProgress, progressFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                    if (badEpochs >= options.patience()) {
                        log.printf("early stopping: no val AUC improvement for %d epochs%n", badEpochs);
                        break;
                    }
                    // A refit is only meaningful with its planned epoch count, so the budget does not stop it.
                    if (!refit && options.maxMinutes() > 0 && epoch < options.epochs()
                            && elapsed + elapsed / epoch > options.maxMinutes() * 60) {
                        log.printf(Locale.ROOT, "time budget: stopping after epoch %d (%s elapsed, budget %.0f min)%n",
                                epoch, hms(elapsed), options.maxMinutes());
                        break;
                    }
                }
                if (average != null) {
                    average.close();
                }
            }
        } finally {
            loader.shutdownNow();
        }
        double trainSeconds = (System.nanoTime() - start) / 1e9;

        // Threshold on validation, scored exactly as the inference service scores (CxrPredictor).
        double threshold;
        String rule;
        ModelMetadata finalMeta;
        try (LoadedModel best = ModelDirectory.load(checkpoint, Device.cpu());
                LoadedModel inferenceForm = BatchNormFolding.fold(best);
                CxrPredictor predictor = new CxrPredictor(inferenceForm, options.batchSize())) {
            if (refit) {
                threshold = options.refitThreshold();
                rule = "carried from the validation-selected run this refit repeats (refit on train + validation)";
                log.printf(Locale.ROOT, "threshold %.4f (%s)%n", threshold, rule);
            } else {
                double[] valScores = predict(predictor, cache, val);
                boolean[] valLabels = select(labels, val);
                if (options.minSensitivity() > 0) {
                    threshold = Metrics.thresholdForSensitivity(valScores, valLabels, options.minSensitivity());
                    rule = String.format(Locale.ROOT, "highest validation threshold with sensitivity >= %.2f",
                            options.minSensitivity());
                } else {
                    threshold = Metrics.youdenThreshold(valScores, valLabels);
                    rule = "Youden's J on validation";
                }
                Metrics.Confusion c = Metrics.confusion(valScores, valLabels, threshold);
                log.printf(Locale.ROOT, "threshold %.4f (%s): val sensitivity %.3f specificity %.3f accuracy %.3f%n",
                        threshold, rule, c.sensitivity(), c.specificity(), c.accuracy());
            }
            finalMeta = new ModelMetadata(options.name(), options.version(), options.backbone(), options.inputSize(),
                    options.embeddingSize(), threshold, options.seed(), true,
                    Instant.now().truncatedTo(ChronoUnit.MILLIS), refit ? String.format(Locale.ROOT,
                            "trained from scratch on %d images (train + validation of a patient-level split, seed %d),"
                                    + " %d epochs; threshold: %s; see MODEL_CARD.md", train.size(), options.seed(),
                            bestEpoch, rule) : String.format(Locale.ROOT,
                            "trained from scratch on %d images (patient-level split, seed %d), best epoch %d "
                                    + "(val ROC AUC %.4f); threshold: %s; see MODEL_CARD.md", train.size(),
                            options.seed(), bestEpoch, bestAuc, rule), options.inputView(), cache.planes());
            // A loaded block has its weights but no recorded input shapes, which Model.save needs: initialise
            // it with the input shape (already-loaded parameters are kept as they are).
            try {
                best.model().getBlock().initialize(best.model().getNDManager(), DataType.FLOAT32,
                        new Shape(1, InputEncoder.CHANNELS, options.inputSize(), options.inputSize()));
                saveWeights(outDir, best.model(), finalMeta);
            } catch (RuntimeException e) {
                // Fallback: the checkpoint already is a ModelDirectory.save output; copy its weights as they are.
                log.println("re-saving the loaded model failed (" + e + "); copying the checkpoint weights");
                clearWeights(outDir);
                Files.createDirectories(outDir);
                Path bestWeights = ModelDirectory.weightsFile(checkpoint).orElseThrow();
                Files.copy(bestWeights, outDir.resolve(bestWeights.getFileName()));
                Files.writeString(outDir.resolve(ModelDirectory.METADATA_FILE), finalMeta.toJson());
            }
        }
        log.printf(Locale.ROOT, "saved %s (%s) to %s in %s%n", finalMeta.name(), refit ? "refit, epoch " + bestEpoch
                : String.format(Locale.ROOT, "best epoch %d, val AUC %.4f", bestEpoch, bestAuc), outDir,
                hms(trainSeconds));
        return new Result(finalMeta, bestEpoch, bestAuc, threshold, rule, history, trainSeconds, train.size(),
                val.size());
    }

    /** Manifest indices of one split part that preprocessing did not reject. */
    static List<Integer> usable(Manifest manifest, DataSplit split, ImageCache cache, DataSplit.Part part) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < manifest.entries().size(); i++) {
            Manifest.Entry e = manifest.entries().get(i);
            if (split.contains(e) && split.partOf(e) == part && cache.input(i) != null) {
                out.add(i);
            }
        }
        return out;
    }

    /** Sampling weight per train position (sums to 1): half the mass per label, see {@link TrainOptions#balance}. */
    static double[] samplingWeights(Manifest manifest, List<Integer> train, String balance) {
        boolean bySource = "source".equals(balance);
        if (!bySource && !"label".equals(balance)) {
            throw new IllegalArgumentException("balance must be 'label' or 'source', got " + balance);
        }
        Map<String, Integer> groupCount = new HashMap<>();
        for (int i : train) {
            groupCount.merge(group(manifest.entries().get(i), bySource), 1, Integer::sum);
        }
        // per label: sum over its groups of sqrt(count) (bySource) or count (label only)
        Map<Boolean, Double> labelMass = new HashMap<>();
        for (Map.Entry<String, Integer> g : groupCount.entrySet()) {
            labelMass.merge(g.getKey().startsWith("true"), bySource ? Math.sqrt(g.getValue()) : g.getValue(),
                    Double::sum);
        }
        double labels = labelMass.size();
        double[] w = new double[train.size()];
        for (int k = 0; k < w.length; k++) {
            Manifest.Entry e = manifest.entries().get(train.get(k));
            int n = groupCount.get(group(e, bySource));
            double groupMass = (bySource ? Math.sqrt(n) : n) / labelMass.get(e.positive());
            w[k] = groupMass / n / labels;
        }
        return w;
    }

    private static String group(Manifest.Entry e, boolean bySource) {
        return e.positive() + (bySource ? "|" + e.source() : "");
    }

    private static int[][] drawBatches(List<Integer> train, double[] weights, int steps, int batchSize,
            SplittableRandom rnd) {
        double[] cumulative = new double[weights.length];
        double sum = 0;
        for (int i = 0; i < weights.length; i++) {
            sum += weights[i];
            cumulative[i] = sum;
        }
        int[][] out = new int[steps][batchSize];
        for (int s = 0; s < steps; s++) {
            for (int b = 0; b < batchSize; b++) {
                int pos = Arrays.binarySearch(cumulative, rnd.nextDouble() * sum);
                pos = pos >= 0 ? pos : Math.min(-pos - 1, weights.length - 1);
                out[s][b] = train.get(pos);
            }
        }
        return out;
    }

    private record Batch(float[] data, long[] labels) {}

    private Batch makeBatch(ImageCache cache, boolean[] labels, int[] indices, Augmenter augmenter,
            SplittableRandom rnd, int sample) {
        float[] data = new float[indices.length * sample];
        long[] y = new long[indices.length];
        for (int i = 0; i < indices.length; i++) {
            ModelInput in = options.inputView().apply(augmenter.apply(cache.input(indices[i]), rnd));
            InputEncoder.encode(in, options.inputSize(), data, i * sample);
            y[i] = labels[indices[i]] ? CxrNetworkFactory.POSITIVE_CLASS : 1 - CxrNetworkFactory.POSITIVE_CLASS;
        }
        return new Batch(data, y);
    }

    /** p(positive) in evaluation mode (BatchNorm running stats, no dropout) with the training block. */
    private double[] score(Trainer trainer, ImageCache cache, List<Integer> indices, int sample) {
        double[] scores = new double[indices.size()];
        int bs = options.batchSize();
        for (int from = 0; from < indices.size(); from += bs) {
            int n = Math.min(bs, indices.size() - from);
            float[] data = new float[n * sample];
            for (int i = 0; i < n; i++) {
                InputEncoder.encode(options.inputView().apply(cache.input(indices.get(from + i))),
                        options.inputSize(), data, i * sample);
            }
            try (NDManager m = trainer.getManager().newSubManager()) {
                NDArray x = m.create(data, new Shape(n, InputEncoder.CHANNELS, options.inputSize(),
                        options.inputSize()));
                NDList out = trainer.evaluate(new NDList(x));
                float[] p = out.get(CxrNetworkFactory.LOGITS).softmax(1).toFloatArray();
                for (int i = 0; i < n; i++) {
                    scores[from + i] = p[i * CxrNetworkFactory.NUM_CLASSES + CxrNetworkFactory.POSITIVE_CLASS];
                }
            }
        }
        return scores;
    }

    static double[] predict(CxrPredictor predictor, ImageCache cache, List<Integer> indices) {
        List<ModelInput> inputs = new ArrayList<>(indices.size());
        for (int i : indices) {
            inputs.add(cache.input(i));
        }
        List<Prediction> predictions = predictor.predict(inputs);
        double[] out = new double[predictions.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = predictions.get(i).probability();
        }
        return out;
    }

    static boolean[] select(boolean[] labels, List<Integer> indices) {
        boolean[] out = new boolean[indices.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = labels[indices.get(i)];
        }
        return out;
    }

    private double currentLr(float stepFactor, int step) {
        return options.learningRate() * Math.pow(stepFactor, step);
    }

    /** Replaces any weights in {@code dir} with the model's, as model-0000.params, then model.json. */
    static void saveWeights(Path dir, Model model, ModelMetadata metadata) throws IOException {
        clearWeights(dir);
        model.setProperty("Epoch", "0");
        ModelDirectory.save(dir, model, metadata);
    }

    private static void clearWeights(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if (name.matches(ModelDirectory.WEIGHTS_PREFIX + "-\\d{4}\\.params")) {
                    Files.delete(p);
                }
            }
        }
    }

    static String hms(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}
