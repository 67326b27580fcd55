package org.cxrtriage.launcher;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.cxrtriage.common.ApiTokens;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.Settings;
import org.cxrtriage.inference.InferenceService;
import org.cxrtriage.ingest.IngestService;
import org.cxrtriage.ingest.FolderSource;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.LoadedModel;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.TorchRuntime;
import org.cxrtriage.preprocess.PreprocessOutcome;
import org.cxrtriage.preprocess.PreprocessService;
import org.cxrtriage.preprocess.TensorFactory;
import org.cxrtriage.schemas.ImageReceived;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Measures, in one run on one machine: the limit (raw DJL forward throughput and the preprocessing cost), then the
 * whole pipeline with each service as its own JVM through the real broker, registry and Redis: sustained throughput
 * with 1 and with 2 inference instances (one consumer group), the inference stage's own throughput on a backlog with
 * each of those, end-to-end latency at half of the single-instance load, each service's peak resident memory, and
 * optionally a soak at half load watching the inference worker's memory.
 * Prints the ratios against the limits and writes them to a Markdown file.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark the pipeline against the model's and the preprocessing's own speed.")
final class BenchCommand implements Callable<Integer> {

    @Mixin
    ImageFolderOptions folder;

    @Option(names = "--count", defaultValue = "120", description = "Images per pipeline phase (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--out", defaultValue = "bench-results.md", description = "Where the table is written.")
    Path out;

    @Option(names = "--instances", split = ",", defaultValue = "1,2",
            description = "Inference instance counts to measure saturation with, ascending (default: ${DEFAULT-VALUE}).")
    List<Integer> instances;

    @Option(names = "--soak-minutes", defaultValue = "0",
            description = "Then run at half load this long, watching the inference worker's memory (default: none).")
    int soakMinutes;

    @Option(names = "--warmup", defaultValue = "2000",
            description = "Images sent at saturation before each measured saturation phase, not timed: the service JVMs "
                    + "and the broker (started cold for the run) keep compiling their hot paths for the first ~1,000 "
                    + "images; in production they run for days (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--half-load-warmup", defaultValue = "4",
            description = "Times the sample is sent at half load, untimed, before the latency phase: code that only "
                    + "runs one image at a time (batch 1, a transaction per image) is still being compiled after the "
                    + "saturation warm-up (default: ${DEFAULT-VALUE}; 0 skips it).")
    int halfLoadWarmup;

    @Option(names = "--latency-load", defaultValue = "0.5",
            description = "The load, as a fraction of the saturation rate, at which the latency is measured: the target "
                    + "is at 0.5; others show how the tail grows with the load (default: ${DEFAULT-VALUE}).")
    double latencyLoad;

    @Option(names = "--broker-warmup-seconds", defaultValue = "60",
            description = "Before the services start, put the broker alone through the pipeline's pattern of requests "
                    + "(image-sized records through two exactly-once stages) this long: it starts cold here, but runs "
                    + "for weeks in production. Without it the broker was still compiling in the saturation phase and took "
                    + "1.5-2.5 times the CPU per image (default: ${DEFAULT-VALUE}; 0 skips it).")
    int brokerWarmupSeconds;

    @Option(names = "--preprocess-nice", defaultValue = "3",
            description = "Niceness of the preprocess service's JVM, 0-19: on shared cores the kernel gives every busy "
                    + "thread an equal share, and the stream threads would otherwise starve each inference instance's "
                    + "one forward-pass thread (figures: docs/performance-history.md) (default: ${DEFAULT-VALUE}; 0: "
                    + "as the launcher).")
    int preprocessNice;

    @Option(names = "--port-base", defaultValue = "28190",
            description = "HTTP ports of the services from here (default: ${DEFAULT-VALUE}).")
    int portBase;

    @Override
    public Integer call() throws Exception {
        if (!(latencyLoad > 0 && latencyLoad < 1)) {
            throw new IllegalArgumentException("--latency-load is a fraction of the saturation rate, between 0 and 1: "
                    + latencyLoad);
        }
        PrintStream o = System.out;
        Settings settings = Settings.fromEnv();
        List<FolderSource.Item> all = folder.items();
        List<FolderSource.Item> sample = RunCommand.spread(all, Math.min(count, all.size()));
        int batch = settings.integer(InferenceService.BATCH_SIZE, 4);

        // Each limit is timed with its own service's PyTorch threads, as the pipeline runs them: the lung U-Net with
        // the preprocess service's (default 1 per stream thread), the model with the inference service's.
        int cores = Runtime.getRuntime().availableProcessors();
        int modelThreads = InferenceService.torchThreads(settings, cores);
        int lungThreads = PreprocessService.lungThreads(settings);
        TorchRuntime.configureThreads(modelThreads, 1);

        // 1. - 2. The limits, timed before the pipeline and again after it: this machine's speed drifts by tens of
        // per cent within minutes (other tenants), and the ratios divide by the mean of the two.
        TensorFactory factory = PreprocessService.tensorFactory(settings); // its U-Net sets lungThreads on this thread
        TensorFactory second = PreprocessService.tensorFactory(settings); // for the two-thread timing (both cores busy)
        Limits before = measureLimits(settings, factory, second, sample, batch, modelThreads, lungThreads, o);

        // 3. - 6. The pipeline, each service its own JVM as in production.
        PipelineFigures p = measurePipeline(settings, sample, o);
        o.println("limits again, after the pipeline:");
        Limits after = measureLimits(settings, factory, second, sample, batch, modelThreads, lungThreads, o);
        double preMean = (before.preMs() + after.preMs()) / 2;
        double forwardBatchMs = (before.forwardBatchMs() + after.forwardBatchMs()) / 2;
        double forwardSingleMs = (before.forwardSingleMs() + after.forwardSingleMs()) / 2;
        double modelRate = batch / (forwardBatchMs / 1000.0);
        double preRate = 1000.0 / preMean;
        double preBothMs = (before.preBothCoresMs() + after.preBothCoresMs()) / 2;
        double limit = Math.min(modelRate, preRate);
        String modelName = before.modelName();
        double drift = Math.abs(after.preMs() - before.preMs()) / preMean;
        double p50 = percentile(p.latency, 50);
        double p95 = percentile(p.latency, 95);
        double p99 = percentile(p.latency, 99);
        double latencyLimit = 2 * (preMean + forwardSingleMs);
        double single = p.rates.get(0);

        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, """
                | measure (%s, %d cores, %s) | value | limit | ratio | target |
                | --- | --- | --- | --- | --- |
                | raw model forward, batch %d | %.2f images/s (%.0f ms/batch; %.0f before, %.0f after the pipeline) | | | |
                | raw model forward, batch 1 | %.2f images/s (%.1f ms/image; %.1f before, %.1f after) | | | |
                | preprocessing, 1 stream thread, lung U-Net on %d PyTorch thread%s (as the service) | %.2f images/s \
                (%.1f ms/image; %.1f before, %.1f after) | | | |
                | preprocessing, 2 threads at once (both cores busy), per thread | %.1f ms/image \
                (%.1f before, %.1f after) | | %.2f of 1 thread alone | |
                """, Instant.now().toString().substring(0, 16), cores, modelName, batch, modelRate, forwardBatchMs,
                before.forwardBatchMs(), after.forwardBatchMs(), 1000.0 / forwardSingleMs, forwardSingleMs,
                before.forwardSingleMs(), after.forwardSingleMs(), lungThreads, lungThreads == 1 ? "" : "s", preRate,
                preMean, before.preMs(), after.preMs(), preBothMs, before.preBothCoresMs(), after.preBothCoresMs(),
                preBothMs / preMean));
        for (int i = 0; i < instances.size(); i++) {
            int n = instances.get(i);
            double rate = p.rates.get(i);
            table.append(n == instances.get(0)
                    ? String.format(Locale.ROOT, "| pipeline throughput at saturation, %d inference instance%s | %.2f "
                            + "images/s | %.2f images/s (slower of the two above, mean of before and after) | %.3f | "
                            + "≥ 0.85 |%n", n,
                            n == 1 ? "" : "s", rate, limit, rate / limit)
                    : String.format(Locale.ROOT, "| pipeline throughput at saturation, %d inference instances | %.2f "
                            + "images/s | %.2f images/s (%d instance%s) | %.2f (scaling) | > 1 |%n", n, rate, single,
                            instances.get(0), instances.get(0) == 1 ? "" : "s", rate / single));
            if (i == 0 && p.overload != null) {
                table.append(String.format(Locale.ROOT, "| of which while preprocessing still had images (every stage "
                                + "busy, as in a sustained overload) | %.2f images/s (%d images in %.2f s) | %.2f images/s "
                                + "(the same) | %.3f | |%n| of which the drain (the tensors queued for the forward pass, "
                                + "after the last image left preprocessing) | %d images in %.2f s | | | |%n",
                        p.overload.rate(), p.overload.images(), p.overload.seconds(), limit, p.overload.rate() / limit,
                        p.overload.drainImages(), p.overload.drainSeconds()));
            }
        }
        double firstStageRate = p.stageRates.get(0);
        for (int i = 0; i < instances.size(); i++) {
            int n = instances.get(i);
            double rate = p.stageRates.get(i);
            table.append(i == 0
                    ? String.format(Locale.ROOT, "| inference stage alone (a backlog of %d tensors), %d instance%s | "
                            + "%.2f images/s | %.2f images/s (raw model forward, batch %d) | %.2f | |%n",
                            2 * sample.size(), n, n == 1 ? "" : "s", rate, modelRate, batch, rate / modelRate)
                    : String.format(Locale.ROOT, "| inference stage alone (a backlog of %d tensors), %d instances | "
                            + "%.2f images/s | %.2f images/s (%d instance%s) | %.2f (scaling) | > 1 |%n",
                            2 * sample.size(), n, rate, firstStageRate, instances.get(0),
                            instances.get(0) == 1 ? "" : "s", rate / firstStageRate));
        }
        table.append(String.format(Locale.ROOT, "| end-to-end latency at %s p50 / p95 / p99 | %.0f / %.0f / %.0f "
                + "ms | %.0f ms (2 × (preprocess + forward of one image)) | %.2f (p99) | %s |%n", latencyPhase(), p50, p95,
                p99, latencyLimit, p99 / latencyLimit, latencyLoad == 0.5 ? "≤ 1" : "(the target is at 50% load)"));
        table.append(p.stageRows);
        for (var e : p.peakRssMb.entrySet()) {
            table.append(String.format(Locale.ROOT, "| peak RSS, %s service | %d MB | 2048 MB | %.2f | ≤ 1%s |%n",
                    e.getKey(), e.getValue(), e.getValue() / 2048.0,
                    e.getKey().startsWith("inference") ? " (model worker: native memory flat instead)" : ""));
        }
        if (p.soak != null) {
            table.append(p.soak);
        }
        if (p.cpuRows != null) {
            table.append(p.cpuRows);
        }
        String brokerAlone = p.brokerWarmup == null ? "none for the broker alone; "
                : String.format(Locale.ROOT, "the broker alone for %.0f s (%d image-sized records through two "
                        + "exactly-once stages), then ", p.brokerWarmup.seconds(), p.brokerWarmup.records());
        table.append(String.format(Locale.ROOT, "%nUntimed warm-up: %s%d images at saturation before each saturation "
                + "phase, %d passes of the sample at %s before the latency phase.%n", brokerAlone, warmup, halfLoadWarmup,
                latencyPhase()));
        table.append(preprocessNice == 0 ? ""
                : String.format(Locale.ROOT, "%nThe preprocess service ran at niceness %d (`--preprocess-nice`): a "
                        + "lower CPU weight than the forward-pass threads it shares the cores with.%n", preprocessNice));
        if (drift > DRIFT_WARNING) {
            table.append(String.format(Locale.ROOT, "%nThe preprocessing limit changed by %.0f %% between before and "
                    + "after the pipeline: the machine's speed drifted during this run, so its ratios are uncertain by "
                    + "about as much.%n", 100 * drift));
        }
        o.println();
        o.print(table);
        Files.writeString(out, table.toString());
        o.println("written to " + out.toAbsolutePath());
        return 0;
    }

    /** Above this relative change of the preprocessing limit over a run, the table says its ratios are uncertain. */
    private static final double DRIFT_WARNING = 0.10;

    /**
     * One timing of the limits: preprocessing per image (one thread, and per thread with two at once), the model per
     * batch and per image.
     */
    private record Limits(double preMs, double preBothCoresMs, double forwardBatchMs, double forwardSingleMs,
            String modelName) {
    }

    /** Times the preprocessing on {@code sample}, then the model on what it produced. */
    private static Limits measureLimits(Settings settings, TensorFactory factory, TensorFactory second,
            List<FolderSource.Item> sample, int batch, int modelThreads, int lungThreads, PrintStream o)
            throws Exception {
        // Preprocessing cost per image, single stream thread, on real X-rays (read from disk before timing).
        List<byte[]> bytes = new ArrayList<>();
        for (FolderSource.Item item : sample) {
            bytes.add(Files.readAllBytes(item.file()));
        }
        List<ModelInput> inputs = new ArrayList<>();
        double[] preMs = new double[sample.size()];
        // Round 0 warms up (JIT, the U-Net's first forward passes) and is not timed.
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < (round == 0 ? Math.min(4, sample.size()) : sample.size()); i++) {
                ImageReceived img = benchImage(i, bytes.get(i));
                long t = System.nanoTime();
                PreprocessOutcome r = factory.process(img.getImageId(), img);
                if (round == 1) {
                    preMs[i] = (System.nanoTime() - t) / 1e6;
                    if (r.ok()) {
                        inputs.add(org.cxrtriage.inference.ScoreMapper.toInput(r.tensor()));
                    }
                }
            }
        }
        double preMean = Arrays.stream(preMs).average().orElse(Double.NaN);
        o.printf(Locale.ROOT, "preprocessing: %.1f ms/image (%d images, lung U-Net on %d PyTorch thread%s)%n", preMean,
                sample.size(), lungThreads, lungThreads == 1 ? "" : "s");
        double preBoth = timeBothCores(factory, second, bytes);
        o.printf(Locale.ROOT, "preprocessing on 2 threads at once: %.1f ms/image per thread (%.2f of one thread alone)%n",
                preBoth, preBoth / preMean);
        TorchRuntime.useIntraOpThreadsOnThisThread(modelThreads);

        // The model's own speed at the configured batch size, and for a single image.
        double forwardBatchMs;
        double forwardSingleMs;
        String modelName;
        try (LoadedModel model = InferenceService.loadModel(settings);
             CxrPredictor batched = new CxrPredictor(model, batch);
             CxrPredictor single = new CxrPredictor(model, 1)) {
            modelName = model.toString();
            batched.warmUp();
            single.warmUp();
            forwardBatchMs = timeBatches(batched, inputs, batch, 8);
            forwardSingleMs = timeBatches(single, inputs, 1, 8);
        }
        o.printf(Locale.ROOT, "model: %.1f ms per batch of %d (%.2f images/s); %.1f ms for one image%n",
                forwardBatchMs, batch, batch / (forwardBatchMs / 1000.0), forwardSingleMs);
        return new Limits(preMean, preBoth, forwardBatchMs, forwardSingleMs, modelName);
    }

    private static ImageReceived benchImage(int i, byte[] bytes) {
        return ImageReceived.newBuilder().setImageId("b" + i).setStudyId("s").setPatientRef("p").setSiteId("s")
                .setViewPosition("PA").setReceivedAt(Instant.now()).setContentType("image/png").setSha256("x")
                .setWidth(0).setHeight(0).setImageBytes(java.nio.ByteBuffer.wrap(bytes)).build();
    }

    /**
     * Mean wall time per image when two threads preprocess the sample at the same time, each with its own factory: the
     * pipeline keeps both cores busy, and memory-heavy work loses speed on this machine then (an ALU-only loop does
     * not; bench/cpu/TwoThreads.java). Shown beside the one-thread limit, which stays the yardstick.
     */
    private static double timeBothCores(TensorFactory first, TensorFactory second, List<byte[]> bytes)
            throws Exception {
        for (int i = 0; i < Math.min(2, bytes.size()); i++) {
            second.process("w" + i, benchImage(i, bytes.get(i))); // its U-Net's first passes; the first one is warm
        }
        ExecutorService pair = Executors.newFixedThreadPool(2);
        try {
            List<Future<Double>> runs = new ArrayList<>();
            for (TensorFactory f : List.of(first, second)) {
                runs.add(pair.submit(() -> {
                    long t = System.nanoTime();
                    for (int i = 0; i < bytes.size(); i++) {
                        f.process("b" + i, benchImage(i, bytes.get(i)));
                    }
                    return (System.nanoTime() - t) / 1e6 / bytes.size();
                }));
            }
            double sum = 0;
            for (Future<Double> r : runs) {
                sum += r.get();
            }
            return sum / runs.size();
        } finally {
            pair.shutdownNow();
        }
    }

    /** What the pipeline phases measured; {@code brokerWarmup} is null when the broker was not warmed up alone. */
    private record PipelineFigures(List<Double> rates, List<Double> stageRates, double[] latency, String stageRows,
            Map<String, Long> peakRssMb, String soak, String cpuRows, BrokerWarmup.Result brokerWarmup,
            Overload overload) {
    }

    /**
     * The saturation phase split where the last image leaves preprocessing. Until then every stage had work and the
     * cores were busy: the results' rate there is what a sustained overload gets. After it only the forward pass (one
     * thread per instance) scores the tensors queued for it while the other core idles: the drain of a finite burst.
     */
    record Overload(double rate, int images, double seconds, int drainImages, double drainSeconds) {
    }

    /**
     * {@link Overload} from the phase's start and each image's epoch ms of leaving preprocessing and of coming out at
     * the back (neighbours computed); null without images.
     */
    static Overload overload(long startMs, long[] preprocessedAt, long[] doneAt) {
        if (preprocessedAt.length == 0) {
            return null;
        }
        long lastPreprocessed = Arrays.stream(preprocessedAt).max().orElseThrow();
        int before = (int) Arrays.stream(doneAt).filter(t -> t <= lastPreprocessed).count();
        double seconds = (lastPreprocessed - startMs) / 1000.0;
        return new Overload(before / seconds, before, seconds, doneAt.length - before,
                (Arrays.stream(doneAt).max().orElseThrow() - lastPreprocessed) / 1000.0);
    }

    /** {@link #overload} over the images that came all the way through and whose tensor was read back. */
    private static Overload overload(Instant start, ResultCollector results, Set<String> ids,
                                     Map<String, TensorTimings.Times> tensors) {
        List<String> through = ids.stream().filter(id -> tensors.containsKey(id) && results.neighbours.containsKey(id))
                .toList();
        long[] preprocessedAt = through.stream().mapToLong(id -> tensors.get(id).preprocessedAt()).toArray();
        long[] doneAt = through.stream().mapToLong(id -> results.neighbours.get(id).getComputedAt().toEpochMilli())
                .toArray();
        return overload(start.toEpochMilli(), preprocessedAt, doneAt);
    }

    /**
     * The JIT compilers' share: CPU that went to compiling code rather than running it (not yet steady state).
     * {@code phase}: "" at saturation, or e.g. " at 50% load".
     */
    private static String jitRow(String phase, double compileSeconds, int images, double seconds) {
        int cores = Runtime.getRuntime().availableProcessors();
        return String.format(Locale.ROOT, "| of which JIT compilation%s, all JVMs | %.1f ms | | %.2f of the cores | |%n",
                phase, 1000 * compileSeconds / images, compileSeconds / (cores * seconds));
    }

    /** CPU per image of all processes against the core-ms per image the phase had: how busy it kept the cores. */
    private static String allProcessesRow(String phase, double total, int images, double seconds) {
        int cores = Runtime.getRuntime().availableProcessors();
        double available = cores * seconds;
        return String.format(Locale.ROOT, "| CPU per image at %s, all processes | %.1f ms | %.1f ms (%d cores × phase "
                + "time / images) | %.2f (busy) | |%n", phase, 1000 * total / images, 1000 * available / images, cores,
                total / available);
    }

    /**
     * Where the cores went at saturation (first instance count): CPU ms per image of each process group, against the
     * whole machine's core-ms per image in that phase.
     */
    private String cpuRows(Map<String, Double> used, int images, double seconds) {
        return perProcessRows("saturation", used, images) + allProcessesRow("saturation", total(used), images, seconds);
    }

    private static double total(Map<String, Double> used) {
        return used.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** CPU ms per image of each process group in one phase, and its share of all the CPU used then. */
    private static String perProcessRows(String phase, Map<String, Double> used, int images) {
        StringBuilder rows = new StringBuilder();
        double total = total(used);
        for (var e : used.entrySet()) {
            rows.append(String.format(Locale.ROOT, "| CPU per image at %s, %s | %.1f ms | | %.2f of all CPU "
                    + "used | |%n", phase, e.getKey(), 1000 * e.getValue() / images, e.getValue() / total));
        }
        return rows.toString();
    }

    /**
     * The machine in the latency phase: CPU per image of each process group, and of all of them against the core-ms
     * per image the phase had, so the table shows how busy "half load" keeps the cores (the latency tail grows with
     * it), and the JIT's part.
     */
    private String halfLoadRows(Map<String, Double> used, double compileSeconds, int images, double seconds) {
        String phase = latencyPhase();
        return perProcessRows(phase, used, images) + allProcessesRow(phase, total(used), images, seconds)
                + jitRow(" at " + phase, compileSeconds, images, seconds);
    }

    /** "50% load" for the default {@code --latency-load}. */
    private String latencyPhase() {
        return String.format(Locale.ROOT, "%.0f%% load", 100 * latencyLoad);
    }

    private PipelineFigures measurePipeline(Settings settings, List<FolderSource.Item> sample, PrintStream o)
            throws Exception {
        Path logs = Files.createDirectories(out.toAbsolutePath().getParent().resolve("bench-logs"));
        String token = "bench-" + UUID.randomUUID();
        Map<String, String> env = new HashMap<>();
        // The benchmark sends the same images in several phases: duplicates must not be refused here.
        env.put(CommonKeys.REDIS_KEY_PREFIX, "cxr:bench-" + System.currentTimeMillis() + ":");
        env.put(IngestService.DEDUP, "false");
        env.put(ApiTokens.TOKENS, token + "=" + ApiTokens.ANY_SITE);
        env.put(org.cxrtriage.common.Pseudonymiser.KEY_SETTING, "bench-" + UUID.randomUUID());
        env.put(PreprocessService.STATE_DIR, Files.createTempDirectory("cxr-bench-streams").toString());
        BrokerWarmup.Result brokerWarm = null;
        if (brokerWarmupSeconds > 0) {
            // Before the services start, so that it has the cores to itself. Two lanes keep both cores busy.
            brokerWarm = BrokerWarmup.run(settings, Duration.ofSeconds(brokerWarmupSeconds), 2, 90_000);
            o.printf(Locale.ROOT, "broker warm-up: %d records through two exactly-once stages in %.0f s (%.0f/s)%n",
                    brokerWarm.records(), brokerWarm.seconds(), brokerWarm.perSecond());
        }
        List<ServiceProcess> services = new ArrayList<>();
        List<ServiceProcess> inference = new ArrayList<>();
        Map<String, Long> peaks = new java.util.LinkedHashMap<>();
        try (ResultCollector results = new ResultCollector(settings)) {
            services.add(new ServiceProcess("similarity", "org.cxrtriage.similarity.SimilarityMain", portBase + 4, env,
                    logs.resolve("similarity.log")));
            inference.add(new ServiceProcess("inference", "org.cxrtriage.inference.InferenceMain", portBase + 2, env,
                    logs.resolve("inference.log")));
            services.add(inference.get(0));
            services.add(new ServiceProcess("preprocess", "org.cxrtriage.preprocess.PreprocessMain", portBase + 1, env,
                    logs.resolve("preprocess.log")).niceness(preprocessNice));
            ServiceProcess ingest = new ServiceProcess("ingest", "org.cxrtriage.ingest.IngestMain", portBase, env,
                    logs.resolve("ingest.log"));
            services.add(ingest);
            for (ServiceProcess s : services) {
                s.start();
                s.awaitHealthy(Duration.ofMinutes(3));
            }
            o.printf("services up as separate JVMs (logs in %s)%n", logs);
            IngestUploader uploader = new IngestUploader(ingest.httpPort(), token);
            List<FolderSource.Item> warm = new ArrayList<>();
            for (int i = 0; i < Math.max(1, warmup); i++) {
                warm.add(sample.get(i % sample.size()));
            }
            List<Double> rates = new ArrayList<>();
            List<Double> stageRates = new ArrayList<>();
            double[] latency = null;
            String stageRows = "";
            Overload overload = null;
            String soak = null;
            String cpu = null;
            String halfLoadCpu = "";
            for (int n : instances) {
                while (inference.size() < n) {
                    ServiceProcess extra = new ServiceProcess("inference-" + (inference.size() + 1),
                            "org.cxrtriage.inference.InferenceMain", portBase + 4 + inference.size(), env,
                            logs.resolve("inference-" + (inference.size() + 1) + ".log"));
                    extra.start();
                    extra.awaitHealthy(Duration.ofMinutes(3));
                    inference.add(extra);
                    services.add(extra);
                }
                // Warm the path (JIT, connections, registry lookups, a rebalance after a new instance) first, at the
                // load that is then measured: steady state is what a department sees after the first minutes.
                awaitAll(results, send(uploader, warm, 4, 0));
                Map<String, Double> cpuBefore = CpuAccounting.snapshot();
                double jitBefore = CpuAccounting.compilerSeconds();
                Instant saturationStart = Instant.now();
                long t0 = System.nanoTime();
                Set<String> ids = awaitAll(results, send(uploader, sample, 4, 0));
                double seconds = (System.nanoTime() - t0) / 1e9;
                double rate = ids.size() / seconds;
                rates.add(rate);
                if (cpu == null) {
                    cpu = cpuRows(CpuAccounting.between(cpuBefore, CpuAccounting.snapshot()), ids.size(), seconds)
                            + jitRow("", CpuAccounting.compilerSeconds() - jitBefore, ids.size(), seconds);
                    overload = overload(saturationStart, results, ids,
                            TensorTimings.read(settings, ids, saturationStart));
                }
                o.printf(Locale.ROOT, "pipeline at saturation, %d inference instance(s): %.2f images/s (%d images, "
                        + "mean batch %.2f)%n", n, rate, ids.size(), meanBatch(results, ids));
                if (latency == null) {
                    // Half of the saturation rate, one image at a time. The sample goes through untimed first
                    // (--half-load-warmup times): at this load each image commits alone and runs at batch 1, code the
                    // saturation warm-up did not exercise (its JIT still took 0.12 of the cores here without this).
                    for (int pass = 0; pass < halfLoadWarmup; pass++) {
                        // The timed pass starts with these /proc reads (thousands of threads): read them in every
                        // warm-up pass too, or this JVM's compilers work on them during the first half second of the
                        // timed pass, on the cores the pipeline shares (its first 7 images took 84-123 ms, against a
                        // p50 of 58, in the run of 2026-11-28 03:13).
                        CpuAccounting.snapshot();
                        CpuAccounting.compilerSeconds();
                        awaitAll(results, send(uploader, sample, 1, rate * latencyLoad));
                    }
                    Map<String, Double> halfBefore = CpuAccounting.snapshot();
                    double halfJitBefore = CpuAccounting.compilerSeconds();
                    long h0 = System.nanoTime();
                    Instant halfStart = Instant.now();
                    Set<String> paced = send(uploader, sample, 1, rate * latencyLoad);
                    results.await(paced, Duration.ofMinutes(2), x -> { });
                    double halfSeconds = (System.nanoTime() - h0) / 1e9;
                    halfLoadCpu = halfLoadRows(CpuAccounting.between(halfBefore, CpuAccounting.snapshot()),
                            CpuAccounting.compilerSeconds() - halfJitBefore, paced.size(), halfSeconds);
                    latency = stageMs(results, paced, id -> Duration.between(results.scores.get(id).getReceivedAt(),
                            results.neighbours.get(id).getComputedAt()));
                    o.printf(Locale.ROOT, "latency at %s: %d images, mean batch %.2f; p50 / p95 / p99 ingest to "
                            + "score %s ms, score to neighbours %s ms%n", latencyPhase(), latency.length,
                            meanBatch(results, paced),
                            percentiles(results, paced, id -> Duration.between(results.scores.get(id).getReceivedAt(),
                                    results.scores.get(id).getScoredAt())),
                            percentiles(results, paced, id -> Duration.between(results.scores.get(id).getScoredAt(),
                                    results.neighbours.get(id).getComputedAt())));
                    Map<String, TensorTimings.Times> tensors = TensorTimings.read(settings, paced, halfStart);
                    stageRows = stageBreakdown(results, paced, tensors);
                    writeHalfLoadImages(logs.resolve("half-load-images.csv"), results, paced, tensors);
                    o.print(stageRows);
                    if (soakMinutes > 0) {
                        soak = soak(uploader, results, sample, rate * 0.5, inference.get(0), o);
                    }
                }
                double stageRate = inferenceStageRate(settings, uploader, results, inference, sample);
                stageRates.add(stageRate);
                o.printf(Locale.ROOT, "inference stage alone, %d instance(s), on a backlog of %d tensors: %.2f "
                        + "images/s%n", n, 2 * sample.size(), stageRate);
                for (ServiceProcess s : services) {
                    peaks.merge(s.name(), s.memory().peakRssMb(), Math::max);
                }
            }
            return new PipelineFigures(rates, stageRates, latency, stageRows, peaks, soak,
                    cpu == null ? null : cpu + halfLoadCpu, brokerWarm, overload);
        } finally {
            java.util.Collections.reverse(services);
            for (ServiceProcess s : services) {
                s.stop();
            }
        }
    }

    /**
     * The inference stage's own throughput with the instances running now. They are paused (SIGSTOP) while twice the
     * sample goes through ingest and preprocessing into the tensors topic, then resumed; the rate is that of the first
     * half of the backlog, from the resume to its scores. On 2 cores preprocessing bounds the whole pipeline, so a
     * second inference instance cannot show there what it adds; with a backlog the instances are the bottleneck. Half,
     * because 3 partitions split the backlog 2:1 between 2 instances and the second one runs dry after a third of it.
     * The pause is held under the consumers' 45 s session timeout (at most {@link #BACKLOG_PAUSE}; longer fails the
     * phase), and the instances are idle when it starts (the phase before has come all the way through), so no
     * transaction of theirs is open. Images preprocessing rejects have no tensor and are left out of the rate.
     */
    private static double inferenceStageRate(Settings settings, IngestUploader uploader, ResultCollector results,
            List<ServiceProcess> inference, List<FolderSource.Item> sample) throws Exception {
        List<FolderSource.Item> backlog = new ArrayList<>(sample);
        backlog.addAll(sample);
        Instant since = Instant.now();
        long deadline = System.nanoTime() + BACKLOG_PAUSE.toNanos();
        for (ServiceProcess s : inference) {
            s.pause();
        }
        Set<String> ids;
        long resumedAt;
        try {
            ids = send(uploader, backlog, 4, 0);
            awaitTensors(settings, results, ids, since, deadline);
        } finally {
            resumedAt = System.currentTimeMillis();
            for (ServiceProcess s : inference) {
                s.resume();
            }
        }
        awaitAll(results, ids);
        return firstHalfRate(ids.stream().filter(results.scores::containsKey)
                .mapToLong(id -> results.scores.get(id).getScoredAt().toEpochMilli()).toArray(), resumedAt);
    }

    /** Images per second over the first half of {@code scoredAt} (epoch ms, any order), counted from {@code from}. */
    static double firstHalfRate(long[] scoredAt, long from) {
        if (scoredAt.length < 2) {
            throw new IllegalArgumentException("need at least 2 scored images, got " + scoredAt.length);
        }
        long[] sorted = scoredAt.clone();
        Arrays.sort(sorted);
        int half = sorted.length / 2;
        return half / (Math.max(1, sorted[half - 1] - from) / 1000.0);
    }

    /** The longest the inference instances stay paused while the backlog builds up. */
    private static final Duration BACKLOG_PAUSE = Duration.ofSeconds(40);

    /** Waits until every one of {@code ids} has its tensor committed to the tensors topic or was rejected. */
    private static void awaitTensors(Settings settings, ResultCollector results, Set<String> ids, Instant since,
            long deadlineNanos) throws InterruptedException {
        while (TensorTimings.read(settings, ids, since).size()
                + ids.stream().filter(results.rejected::containsKey).count() < ids.size()) {
            if (System.nanoTime() > deadlineNanos) {
                throw new IllegalStateException("the backlog's tensors did not all reach the tensors topic within "
                        + BACKLOG_PAUSE.toSeconds() + " s of pausing the inference instances");
            }
            Thread.sleep(500);
        }
    }

    /**
     * Sends at half load for {@code soakMinutes}, sampling the inference worker's memory every 30 s: its native memory
     * (PyTorch; resident memory minus the JVM's committed heap, which the collector grows and shrinks at will) must
     * stay flat. Returns the table rows.
     */
    private String soak(IngestUploader uploader, ResultCollector results, List<FolderSource.Item> sample, double rate,
                        ServiceProcess worker, PrintStream o) throws Exception {
        long end = System.nanoTime() + Duration.ofMinutes(soakMinutes).toNanos();
        List<long[]> samples = new ArrayList<>(); // {seconds, rss MB, native MB}
        long start = System.nanoTime();
        long nextSample = start;
        long gap = (long) (1e9 / rate);
        long next = start;
        int i = 0;
        Set<String> sent = new HashSet<>();
        Map<String, Integer> refusals = new ConcurrentHashMap<>();
        while (System.nanoTime() < end) {
            if (System.nanoTime() >= nextSample) {
                long[] m = memorySample(worker, start);
                samples.add(m);
                o.printf(Locale.ROOT, "soak: %3d s, inference RSS %d MB, native %d MB, %d images%n", m[0], m[1], m[2],
                        sent.size());
                nextSample += Duration.ofSeconds(30).toNanos();
            }
            while (System.nanoTime() < next) {
                Thread.sleep(1);
            }
            next += gap;
            String id = uploader.upload(sample.get(i++ % sample.size()), refusals);
            if (id != null) {
                sent.add(id);
            }
        }
        samples.add(memorySample(worker, start));
        Set<String> missing = results.await(sent, Duration.ofMinutes(2), x -> { });
        // Growth over the second half: the first half includes allocator and JIT warm-up.
        long[] first = samples.get(Math.min(1, samples.size() - 1));
        long[] mid = samples.get(samples.size() / 2);
        long[] last = samples.get(samples.size() - 1);
        return String.format(Locale.ROOT, "| soak %d min at 50%% load, inference RSS at 30 s / half / end | %d / %d / "
                        + "%d MB (%d images, %d not through) | | %+.1f%% (second half) | |%n", soakMinutes,
                first[1], mid[1], last[1], sent.size(), missing.size(), growth(mid[1], last[1]) * 100)
                + String.format(Locale.ROOT, "| soak, inference native memory (RSS − committed heap) at 30 s / half / "
                        + "end | %d / %d / %d MB | flat | %+.1f%% (second half) | ≤ +5%% |%n", first[2], mid[2],
                last[2], growth(mid[2], last[2]) * 100);
    }

    /** {seconds since start, RSS MB, RSS minus committed heap MB (-1 when the heap cannot be read)}. */
    private static long[] memorySample(ServiceProcess worker, long start) {
        long rss = worker.memory().rssMb();
        long heap = worker.heapCommittedMb();
        return new long[] {(System.nanoTime() - start) / 1_000_000_000L, rss, heap < 0 || rss < 0 ? -1 : rss - heap};
    }

    private static double growth(long from, long to) {
        return (to - from) / (double) from;
    }

    /**
     * Uploads {@code items} with {@code threads} senders, as fast as ingest takes them ({@code rate} 0) or at
     * {@code rate} images per second; returns the accepted image ids.
     */
    private static Set<String> send(IngestUploader uploader, List<FolderSource.Item> items, int threads, double rate)
            throws Exception {
        Set<String> ids = ConcurrentHashMap.newKeySet();
        Map<String, Integer> refusals = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < items.size(); i++) {
                FolderSource.Item item = items.get(i);
                long due = rate > 0 ? start + (long) (i * 1e9 / rate) : 0;
                done.add(pool.submit(() -> {
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    String id = uploader.upload(item, refusals);
                    if (id != null) {
                        ids.add(id);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        if (!refusals.isEmpty()) {
            System.out.println("refused at ingest: " + refusals);
        }
        return ids;
    }

    /** Mean size of the forward-pass batches these images were scored in. */
    private static double meanBatch(ResultCollector results, Set<String> ids) {
        return ids.stream().filter(results.scores::containsKey)
                .mapToInt(id -> results.scores.get(id).getBatchSize()).average().orElse(Double.NaN);
    }

    /** One stage's duration in ms, sorted, over the images that came all the way through (score and neighbours). */
    private static double[] stageMs(ResultCollector results, Set<String> ids,
                                    java.util.function.Function<String, Duration> stage) {
        return ids.stream().filter(id -> results.scores.containsKey(id) && results.neighbours.containsKey(id))
                .mapToDouble(id -> stage.apply(id).toNanos() / 1e6).sorted().toArray();
    }

    /** The stages of an image's way through the pipeline: each runs from one of {@link #marks} to the next. */
    private static final List<String> STAGES = List.of("upload to preprocessing start", "preprocessing",
            "hand-over to the forward pass", "forward pass", "score to neighbours");

    /**
     * Epoch ms at which an image passed each point: accepted by ingest, preprocessing started and done, the forward
     * pass of its batch started and done (scored), neighbours computed.
     */
    private static long[] marks(ResultCollector results, Map<String, TensorTimings.Times> tensors, String id) {
        var score = results.scores.get(id);
        long scored = score.getScoredAt().toEpochMilli();
        return new long[] {score.getReceivedAt().toEpochMilli(), tensors.get(id).startedAt(),
                tensors.get(id).preprocessedAt(), scored - Math.round(score.getInferenceMs()), scored,
                results.neighbours.get(id).getComputedAt().toEpochMilli()};
    }

    /**
     * Table rows: where the time of each image at half load went, stage by stage (p50 / p95 / p99 of each, and its
     * share of the mean): waiting to be preprocessed (upload to broker, the stream's fetch, images ahead of it),
     * preprocessing, the hand-over (the stream's commit, the inference service's fetch and batch), the forward pass,
     * and the similarity stage (the inference commit, fetch, neighbour search).
     */
    private static String stageBreakdown(ResultCollector results, Set<String> ids,
                                         Map<String, TensorTimings.Times> tensors) {
        Set<String> known = new HashSet<>(ids);
        known.retainAll(tensors.keySet());
        double total = Arrays.stream(stageMs(results, known, id -> {
            long[] m = marks(results, tensors, id);
            return Duration.ofMillis(m[m.length - 1] - m[0]);
        })).sum();
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < STAGES.size(); i++) {
            int stage = i;
            double[] ms = stageMs(results, known, id -> {
                long[] m = marks(results, tensors, id);
                return Duration.ofMillis(m[stage + 1] - m[stage]);
            });
            s.append(String.format(Locale.ROOT, "| of which %s (%d images), p50 / p95 / p99 | %.0f / %.0f / %.0f ms "
                    + "| | %.2f of the mean | |%n", STAGES.get(i), ms.length, percentile(ms, 50), percentile(ms, 95),
                    percentile(ms, 99), Arrays.stream(ms).sum() / total));
        }
        return s.toString();
    }

    /**
     * One line per image of the half-load phase, in upload order: its {@link #marks} (epoch ms), for looking into a
     * tail (bursts of arrivals, a stall that hit several stages at once).
     */
    private static void writeHalfLoadImages(Path file, ResultCollector results, Set<String> ids,
                                            Map<String, TensorTimings.Times> tensors) throws java.io.IOException {
        List<String> lines = new ArrayList<>(List.of(
                "received_ms,preprocess_start_ms,preprocessed_ms,forward_start_ms,scored_ms,neighbours_ms"));
        ids.stream().filter(id -> tensors.containsKey(id) && results.scores.containsKey(id)
                        && results.neighbours.containsKey(id))
                .map(id -> marks(results, tensors, id))
                .sorted(java.util.Comparator.comparingLong(m -> m[0]))
                .forEach(m -> lines.add(Arrays.stream(m).mapToObj(Long::toString)
                        .collect(java.util.stream.Collectors.joining(","))));
        Files.write(file, lines);
    }

    /** "p50 / p95 / p99" in ms of one stage's duration over the images that came all the way through. */
    private static String percentiles(ResultCollector results, Set<String> ids,
                                      java.util.function.Function<String, Duration> stage) {
        double[] ms = stageMs(results, ids, stage);
        return String.format(Locale.ROOT, "%.0f / %.0f / %.0f", percentile(ms, 50), percentile(ms, 95),
                percentile(ms, 99));
    }

    private static Set<String> awaitAll(ResultCollector results, Set<String> ids) throws InterruptedException {
        Set<String> missing = results.await(ids, Duration.ofMinutes(3), n -> { });
        if (!missing.isEmpty()) {
            throw new IllegalStateException(missing.size() + " images did not come through the pipeline");
        }
        return ids;
    }

    private static double timeBatches(CxrPredictor predictor, List<ModelInput> inputs, int batch, int rounds) {
        long total = 0;
        for (int r = 0; r < rounds; r++) {
            List<ModelInput> chunk = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                chunk.add(inputs.get((r * batch + i) % inputs.size()));
            }
            long t = System.nanoTime();
            predictor.predict(chunk);
            total += System.nanoTime() - t;
        }
        return total / 1e6 / rounds;
    }

    /** The nearest-rank percentile {@code p} (0–100) of ascending {@code sorted}; NaN when it is empty. */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

}
