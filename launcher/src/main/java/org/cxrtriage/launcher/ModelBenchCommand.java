package org.cxrtriage.launcher;

import ai.djl.Device;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import org.cxrtriage.inference.InferenceService;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.LoadedModel;
import org.cxrtriage.model.LungChannel;
import org.cxrtriage.model.LungModelDirectory;
import org.cxrtriage.model.ModelDirectory;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.ModelMetadata;
import org.cxrtriage.model.Prediction;
import org.cxrtriage.model.TorchRuntime;
import org.cxrtriage.model.UnetLungSegmenter;
import org.cxrtriage.preprocess.PreprocessService;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The model limit on this machine, without the broker or the services: forward passes of the classifier per batch
 * size, and of the lung U-Net on one plane, on the engine's default device (GPU 0 when there is one) and on the CPU,
 * with the GPU's outputs checked against the CPU's. It needs only the model jars, so it also runs where the rest of the
 * stack cannot (a GPU host reached by a small transfer); it has its own {@link #main} for that.
 */
@Command(name = "bench-model", mixinStandardHelpOptions = true,
        description = "Forward-pass throughput and latency of the classifier and the lung U-Net, GPU and CPU.")
final class ModelBenchCommand implements Callable<Integer> {

    @Option(names = "--model-dir",
            defaultValue = "${env:" + InferenceService.MODEL_DIR + ":-" + InferenceService.DEFAULT_MODEL_DIR + "}",
            description = "Classifier directory (default: ${DEFAULT-VALUE}).")
    Path modelDir;

    @Option(names = "--lung-model-dir",
            defaultValue = "${env:" + PreprocessService.LUNG_MODEL_DIR + ":-" + LungChannel.DEFAULT_MODEL_DIR + "}",
            description = "Lung U-Net directory; 'none' skips it (default: ${DEFAULT-VALUE}).")
    String lungModelDir;

    @Option(names = "--batch-sizes", split = ",", defaultValue = "1,4,16,64",
            description = "Classifier batch sizes to time; one between powers of two runs padded to the next, as the "
                    + "inference service runs it (default: ${DEFAULT-VALUE}).")
    int[] batchSizes;

    @Option(names = "--seconds", defaultValue = "3", description = "Timed seconds per batch size and device.")
    double seconds;

    @Option(names = "--cpu-threads", defaultValue = "0",
            description = "PyTorch intra-op threads on the CPU; 0: one per core (default: ${DEFAULT-VALUE}).")
    int cpuThreads;

    @Option(names = "--seeded", description = "Untrained weights drawn from the classifier's model.json instead of "
            + "its weights file: the same network and cost, for a host the 46 MB weights cannot reach.")
    boolean seeded;

    @Option(names = "--out", defaultValue = "bench-model.md", description = "Where the table is written.")
    Path out;

    /** Images whose outputs are compared between the GPU and the CPU. */
    private static final int CHECKED_IMAGES = 8;

    @Override
    public Integer call() throws Exception {
        if (Arrays.stream(batchSizes).anyMatch(b -> b <= 0) || !(seconds > 0)) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                    "--batch-sizes must be > 0 and --seconds > 0, got " + Arrays.toString(batchSizes) + " and "
                            + seconds);
        }
        PrintStream o = System.out;
        int threads = cpuThreads > 0 ? cpuThreads : Runtime.getRuntime().availableProcessors();
        TorchRuntime.configureThreads(threads, 1);
        Device defaultDevice = TorchRuntime.defaultDevice();
        List<Device> devices = defaultDevice.isGpu() ? List.of(defaultDevice, Device.cpu()) : List.of(Device.cpu());
        o.printf("devices: %s; CPU intra-op threads %d%n", devices, threads);
        int maxBatch = Arrays.stream(batchSizes).max().orElseThrow();

        Path classifierDir = seeded ? seededCopy(modelDir) : modelDir;
        try {
            return bench(devices, classifierDir, maxBatch, o);
        } finally {
            if (seeded) {
                deleteTree(classifierDir);
            }
        }
    }

    private int bench(List<Device> devices, Path classifierDir, int maxBatch, PrintStream o) throws IOException {
        StringBuilder table = new StringBuilder(
                "| network | device | batch | images/s | ms per batch, p50 / p99 | calls |\n"
                        + "| --- | --- | --- | ---: | ---: | ---: |\n");
        List<List<Prediction>> checked = new ArrayList<>();
        String modelName = null;
        for (Device device : devices) {
            try (LoadedModel model = ModelDirectory.loadForInference(classifierDir, device);
                    CxrPredictor predictor = model.newPredictor(maxBatch)) {
                modelName = model.toString();
                predictor.warmUp();
                List<ModelInput> inputs = inputs(model.metadata().inputSize(), maxBatch);
                checked.add(predictor.predict(inputs.subList(0, Math.min(CHECKED_IMAGES, inputs.size()))));
                for (int batch : batchSizes) {
                    Timing t = time(() -> predictor.predict(inputs.subList(0, batch)));
                    table.append(row("classifier", device, batch, t));
                    o.print(row("classifier", device, batch, t));
                }
            }
        }
        StringBuilder notes = new StringBuilder();
        if (checked.size() == 2) {
            notes.append(String.format(Locale.ROOT, "GPU against CPU, same weights, %d images: max |Δ p(COVID)| %.2e, "
                    + "max |Δ embedding| %.2e.%n", checked.get(0).size(), maxProbabilityDiff(checked),
                    maxEmbeddingDiff(checked)));
        }
        if (!"none".equals(lungModelDir)) {
            List<byte[]> maps = new ArrayList<>();
            for (Device device : devices) {
                try (UnetLungSegmenter unet = new UnetLungSegmenter(LungModelDirectory.load(Path.of(lungModelDir),
                        device))) {
                    int size = unet.metadata().inputSize();
                    byte[] plane = inputs(size, 1).get(0).cxr();
                    for (int i = 0; i < 5; i++) {
                        unet.segment(plane, size);
                    }
                    maps.add(unet.segment(plane, size).probability());
                    Timing t = time(() -> unet.segment(plane, size));
                    table.append(row("lung U-Net " + size + "²", device, 1, t));
                    o.print(row("lung U-Net " + size + "²", device, 1, t));
                }
            }
            if (maps.size() == 2) {
                int max = 0;
                for (int i = 0; i < maps.get(0).length; i++) {
                    max = Math.max(max, Math.abs((maps.get(0)[i] & 0xff) - (maps.get(1)[i] & 0xff)));
                }
                notes.append(String.format(Locale.ROOT, "Lung map, GPU against CPU: max difference %d of 255.%n", max));
            }
        }
        String header = String.format(Locale.ROOT, "%s, %s, %d cores%s; each row: %s s of back-to-back calls after "
                        + "warm-up, host-to-device copies and results back included.%n%n",
                Instant.now(), modelName, Runtime.getRuntime().availableProcessors(),
                seeded ? ", seeded (untrained) classifier weights" : "",
                java.math.BigDecimal.valueOf(seconds).stripTrailingZeros().toPlainString());
        String text = header + table + "\n" + notes;
        o.println();
        o.print(text);
        Files.writeString(out, text);
        o.println("written to " + out.toAbsolutePath());
        return 0;
    }

    /** The classifier's metadata with weights drawn from its seed, in a temporary directory. */
    private static Path seededCopy(Path dir) throws IOException {
        ModelMetadata m = ModelDirectory.readMetadata(dir);
        Path tmp = Files.createTempDirectory("cxr-seeded-model");
        ModelDirectory.createSeeded(tmp, m.backbone(), m.inputSize(), m.embeddingSize(), m.seed(), m.name(),
                m.version() + "-seeded");
        return tmp;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Collections.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Random planes (fixed seed): the forward pass costs the same whatever the pixels. */
    private static List<ModelInput> inputs(int size, int count) {
        Random random = new Random(42);
        List<ModelInput> inputs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] cxr = new byte[size * size];
            byte[] lung = new byte[size * size];
            random.nextBytes(cxr);
            random.nextBytes(lung);
            inputs.add(new ModelInput(size, cxr, lung));
        }
        return inputs;
    }

    record Timing(int calls, double totalMs, double p50Ms, double p99Ms) {}

    private Timing time(Runnable call) {
        List<Double> ms = new ArrayList<>();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long now = start;
        while (now < end || ms.size() < 3) {
            long t0 = System.nanoTime();
            call.run();
            now = System.nanoTime();
            ms.add((now - t0) / 1e6);
        }
        double total = (now - start) / 1e6;
        double[] sorted = ms.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new Timing(sorted.length, total, BenchCommand.percentile(sorted, 50), BenchCommand.percentile(sorted, 99));
    }

    private static String row(String network, Device device, int batch, Timing t) {
        return String.format(Locale.ROOT, "| %s | %s | %d | %,.0f | %.2f / %.2f | %d |%n", network, device, batch,
                batch * t.calls() / (t.totalMs() / 1000), t.p50Ms(), t.p99Ms(), t.calls());
    }

    private static double maxProbabilityDiff(List<List<Prediction>> runs) {
        double max = 0;
        for (int i = 0; i < runs.get(0).size(); i++) {
            max = Math.max(max, Math.abs(runs.get(0).get(i).probability() - runs.get(1).get(i).probability()));
        }
        return max;
    }

    private static double maxEmbeddingDiff(List<List<Prediction>> runs) {
        double max = 0;
        for (int i = 0; i < runs.get(0).size(); i++) {
            float[] a = runs.get(0).get(i).embedding();
            float[] b = runs.get(1).get(i).embedding();
            for (int j = 0; j < a.length; j++) {
                max = Math.max(max, Math.abs(a[j] - b[j]));
            }
        }
        return max;
    }

    /** Runs without the rest of the launcher on the class path (see the class comment). */
    public static void main(String[] args) {
        System.exit(new CommandLine(new ModelBenchCommand()).execute(args));
    }
}
