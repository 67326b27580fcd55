package org.cxrtriage.trainer;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.cxrtriage.imaging.GrayImage;
import org.cxrtriage.imaging.Resize;
import org.cxrtriage.model.LungModelDirectory;
import org.cxrtriage.model.LungModelMetadata;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.TorchRuntime;
import org.cxrtriage.model.UnetLungSegmenter;

/**
 * Trains the lung U-Net: Adam with per-epoch exponential LR decay, BCE + soft Dice, train-only augmentation
 * (flip, small affine moving plane and mask together; gamma/contrast/brightness on the plane), seeded. After every
 * epoch the validation Dice is measured through {@link UnetLungSegmenter} on the plane resolution (the stream's
 * path) and the best epoch is saved to the output directory.
 */
final class LungTraining {
    record Options(int inputSize, int baseWidth, int levels, int batchSize, int epochs, float learningRate,
            float lrDecay, long seed, int logEvery, double maxMinutes, String name, String version) {}

    record EpochStats(int epoch, double trainLoss, double trainSoftDice, double valDice, double seconds) {}

    record Result(LungModelMetadata metadata, int bestEpoch, double bestValDice, List<EpochStats> history,
            double trainSeconds, int trainImages, int valImages) {}

    private final Options options;
    private final PrintStream log;

    LungTraining(Options options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    /** A sample's plane and mask at the network's input size. */
    private record Input(byte[] cxr, byte[] mask) {}

    Result run(List<LungMasks.Sample> train, List<LungMasks.Sample> val, Path outDir) throws IOException {
        int n = options.inputSize();
        List<Input> inputs = new ArrayList<>(train.size());
        for (LungMasks.Sample s : train) {
            inputs.add(new Input(toSize(s.cxr(), s.size(), n), toSize(s.mask(), s.size(), n)));
        }
        int steps = Math.max(1, train.size() / options.batchSize());
        int total = steps * options.epochs();
        log.printf(Locale.ROOT, "lung U-Net base %d, %d levels @%dpx; train %d images, val %d; %d epochs x %d steps of %d%n",
                options.baseWidth(), options.levels(), n, train.size(), val.size(), options.epochs(), steps,
                options.batchSize());
        LungModelMetadata metadata = new LungModelMetadata(options.name(), options.version(), n, options.baseWidth(),
                options.levels(), options.seed(), false, Double.NaN, Instant.now().truncatedTo(ChronoUnit.MILLIS),
                "training");
        Augmenter augmenter = Augmenter.defaults();
        List<EpochStats> history = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        int bestEpoch = -1;
        long start = System.nanoTime();
        try (LungModelDirectory.Loaded lm = LungModelDirectory.initialise(metadata, Device.cpu())) {
            Model model = lm.model();
            float stepFactor = (float) Math.pow(options.lrDecay(), 1.0 / steps);
            Optimizer adam = Optimizer.adam()
                    .optLearningRateTracker(Tracker.factor().setBaseValue(options.learningRate()).setFactor(stepFactor)
                            .build())
                    .optClipGrad(5f)
                    .build();
            TorchRuntime.engine().setRandomSeed((int) options.seed());
            UnetLungSegmenter evaluator = new UnetLungSegmenter(lm); // shares the training weights; never closed
            try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(new BceDiceLoss()).optOptimizer(adam)
                    .optDevices(new Device[] {Device.cpu()}))) {
                trainer.initialize(new Shape(options.batchSize(), 1, n, n));
                int step = 0;
                for (int epoch = 1; epoch <= options.epochs(); epoch++) {
                    long epochStart = System.nanoTime();
                    SplittableRandom rnd = new SplittableRandom(options.seed() * 1_000_003L + epoch);
                    int[] order = permutation(inputs.size(), rnd);
                    double lossSum = 0;
                    double diceSum = 0;
                    double windowLoss = 0;
                    int windowSteps = 0;
                    for (int b = 0; b < steps; b++) {
                        int bs = options.batchSize();
                        float[] x = new float[bs * n * n];
                        float[] y = new float[bs * n * n];
                        for (int i = 0; i < bs; i++) {
                            Input in = inputs.get(order[(b * bs + i) % order.length]);
                            ModelInput aug = augmenter.apply(new ModelInput(n, in.cxr(), in.mask()), rnd);
                            for (int p = 0; p < n * n; p++) {
                                x[i * n * n + p] = (aug.cxr()[p] & 0xFF) / 255f;
                                y[i * n * n + p] = (aug.lung()[p] & 0xFF) / 255f;
                            }
                        }
                        float loss;
                        float dice;
                        try (NDManager m = trainer.getManager().newSubManager()) {
                            Shape shape = new Shape(bs, 1, n, n);
                            NDArray xs = m.create(x, shape);
                            NDArray ys = m.create(y, shape);
                            try (GradientCollector gc = trainer.newGradientCollector()) {
                                NDList out = trainer.forward(new NDList(xs));
                                NDArray l = trainer.getLoss().evaluate(new NDList(ys), out);
                                gc.backward(l);
                                loss = l.getFloat();
                                dice = BceDiceLoss.softDice(Activation.sigmoid(out.singletonOrThrow().stopGradient()), ys)
                                        .mean().getFloat();
                            }
                            trainer.step();
                        }
                        step++;
                        lossSum += loss;
                        diceSum += dice;
                        windowLoss += loss;
                        windowSteps++;
                        if (options.logEvery() > 0 && (step % options.logEvery() == 0 || b == steps - 1)) {
                            double elapsed = (System.nanoTime() - start) / 1e9;
                            log.printf(Locale.ROOT, "epoch %d step %d/%d (total %d/%d) loss %.4f soft Dice %.4f lr %.2e"
                                            + " elapsed %s ETA %s%n", epoch, b + 1, steps, step, total,
                                    windowLoss / windowSteps, dice, options.learningRate() * Math.pow(stepFactor, step),
                                    ModelTraining.hms(elapsed), ModelTraining.hms(elapsed / step * (total - step)));
                            windowLoss = 0;
                            windowSteps = 0;
                        }
                    }
                    LungEvaluation.Summary v = LungEvaluation.evaluate(val, evaluator);
                    EpochStats stats = new EpochStats(epoch, lossSum / steps, diceSum / steps, v.mean(),
                            (System.nanoTime() - epochStart) / 1e9);
                    history.add(stats);
                    boolean improved = v.mean() > best;
                    log.printf(Locale.ROOT, "epoch %d/%d: train loss %.4f soft Dice %.4f | val Dice mean %.4f min %.4f"
                                    + " | %.0fs%s%n", epoch, options.epochs(), stats.trainLoss(), stats.trainSoftDice(),
                            v.mean(), v.min(), stats.seconds(), improved ? " * best, saved" : "");
                    if (improved) {
                        best = v.mean();
                        bestEpoch = epoch;
                        LungModelDirectory.save(outDir, model, metadata.withResult(true, Double.NaN,
                                "checkpoint epoch " + epoch));
                    }
                    double elapsed = (System.nanoTime() - start) / 1e9;
                    if (options.maxMinutes() > 0 && epoch < options.epochs()
                            && elapsed + elapsed / epoch > options.maxMinutes() * 60) {
                        log.printf(Locale.ROOT, "time budget: stopping after epoch %d (%s elapsed, budget %.0f min)%n",
                                epoch, ModelTraining.hms(elapsed), options.maxMinutes());
                        break;
                    }
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        LungModelMetadata saved = LungModelDirectory.readMetadata(outDir);
        return new Result(saved, bestEpoch, best, history, seconds, train.size(), val.size());
    }

    static byte[] toSize(byte[] plane, int size, int target) {
        return size == target ? plane : Resize.square(GrayImage.fromUint8(size, size, plane), target).toUint8();
    }

    private static int[] permutation(int n, SplittableRandom rnd) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
