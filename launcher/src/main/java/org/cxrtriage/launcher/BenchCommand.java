package org.cxrtriage.launcher;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.cxrtriage.common.Settings;
import org.cxrtriage.inference.InferenceService;
import org.cxrtriage.ingest.FolderIngest;
import org.cxrtriage.ingest.FolderSource;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.LoadedModel;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.TorchRuntime;
import org.cxrtriage.preprocess.PreprocessOutcome;
import org.cxrtriage.preprocess.PreprocessService;
import org.cxrtriage.preprocess.TensorFactory;
import org.cxrtriage.schemas.CxrNeighbours;
import org.cxrtriage.schemas.CxrScore;
import org.cxrtriage.schemas.ImageReceived;
import org.cxrtriage.similarity.SimilarityService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Measures, in one run on one machine: the limit (raw DJL forward throughput and the preprocessing cost), the whole
 * pipeline's sustained throughput through the real broker, registry and Redis, and its end-to-end latency at half of
 * that load; prints the ratios against the limit and writes them to a Markdown file.
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

    @Override
    public Integer call() throws Exception {
        PrintStream o = System.out;
        Settings settings = Settings.fromEnv();
        // The benchmark sends the same images in several phases: duplicates must not be refused here.
        settings = settings.with(java.util.Map.of(SimilarityService.REDIS_KEY_PREFIX,
                "cxr:bench-" + System.currentTimeMillis() + ":", org.cxrtriage.ingest.IngestService.DEDUP, "false"));
        List<FolderSource.Item> all = folder.items();
        List<FolderSource.Item> sample = RunCommand.spread(all, Math.min(count, all.size()));
        int batch = settings.integer(InferenceService.BATCH_SIZE, 4);

        // PyTorch's threads are fixed when the engine starts, which the lung U-Net of the preprocessing does first.
        int cores = Runtime.getRuntime().availableProcessors();
        TorchRuntime.configureThreads(settings.integer(InferenceService.TORCH_THREADS, cores), 1);

        // 1. Preprocessing cost per image, single stream thread, on real X-rays.
        TensorFactory factory = PreprocessService.tensorFactory(settings);
        List<ModelInput> inputs = new ArrayList<>();
        double[] preMs = new double[sample.size()];
        for (int i = 0; i < sample.size(); i++) {
            ImageReceived img = ImageReceived.newBuilder().setImageId("b" + i).setStudyId("s").setPatientRef("p")
                    .setSiteId("s").setViewPosition("PA").setReceivedAt(Instant.now()).setContentType("image/png")
                    .setSha256("x").setWidth(0).setHeight(0)
                    .setImageBytes(java.nio.ByteBuffer.wrap(Files.readAllBytes(sample.get(i).file()))).build();
            long t = System.nanoTime();
            PreprocessOutcome r = factory.process(img.getImageId(), img);
            preMs[i] = (System.nanoTime() - t) / 1e6;
            if (r.ok()) {
                inputs.add(org.cxrtriage.inference.ScoreMapper.toInput(r.tensor()));
            }
        }
        double preMean = Arrays.stream(preMs).average().orElse(Double.NaN);
        o.printf(Locale.ROOT, "preprocessing: %.1f ms/image (%d images)%n", preMean, sample.size());

        // 2. The model's own speed at the configured batch size, and for a single image.
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
        double modelRate = batch / (forwardBatchMs / 1000.0);
        double preRate = 1000.0 / preMean;
        double limit = Math.min(modelRate, preRate);
        o.printf(Locale.ROOT, "model: %.1f ms per batch of %d (%.2f images/s); %.1f ms for one image%n",
                forwardBatchMs, batch, modelRate, forwardSingleMs);

        // 3. + 4. The pipeline: saturation, then half of it for latency.
        double pipelineRate;
        double[] latency;
        try (LocalPipeline pipeline = new LocalPipeline(settings); ResultCollector results = new ResultCollector(settings)) {
            pipeline.start();
            FolderIngest ingest = new FolderIngest(pipeline.ingest());
            // Warm the path (JIT, connections, first registry lookups) before measuring.
            await(results, ingest.send(sample.subList(0, Math.min(8, sample.size())), x -> { }));
            long t0 = System.nanoTime();
            Set<String> ids = await(results, ingest.send(sample, x -> { }));
            pipelineRate = ids.size() / ((System.nanoTime() - t0) / 1e9);
            o.printf(Locale.ROOT, "pipeline at saturation: %.2f images/s (%d images)%n", pipelineRate, ids.size());

            long gapNanos = (long) (1e9 / (pipelineRate * 0.5));
            Set<String> paced = new HashSet<>();
            long next = System.nanoTime();
            for (FolderSource.Item item : sample) {
                while (System.nanoTime() < next) {
                    Thread.sleep(1);
                }
                next += gapNanos;
                paced.addAll(ids(ingest.send(List.of(item), x -> { })));
            }
            results.await(paced, Duration.ofMinutes(2), n -> { });
            latency = paced.stream().filter(id -> results.scores.containsKey(id) && results.neighbours.containsKey(id))
                    .mapToDouble(id -> {
                        CxrScore s = results.scores.get(id);
                        CxrNeighbours n = results.neighbours.get(id);
                        return Duration.between(s.getReceivedAt(), n.getComputedAt()).toNanos() / 1e6;
                    }).sorted().toArray();
        }
        double p50 = percentile(latency, 50);
        double p95 = percentile(latency, 95);
        double p99 = percentile(latency, 99);
        double latencyLimit = 2 * (preMean + forwardSingleMs);
        long peakRssMb = peakRssMb();

        String table = String.format(Locale.ROOT, """
                | measure (%s, %d cores, %s) | value | limit | ratio | target |
                | --- | --- | --- | --- | --- |
                | raw model forward, batch %d | %.2f images/s (%.0f ms/batch) | | | |
                | preprocessing, 1 thread | %.2f images/s (%.1f ms/image) | | | |
                | pipeline throughput at saturation | %.2f images/s | %.2f images/s (slower of the two above) | %.2f | ≥ 0.85 |
                | end-to-end latency at 50%% load p50 / p95 / p99 | %.0f / %.0f / %.0f ms | %.0f ms (2 × (preprocess + forward of one image)) | %.2f (p99) | ≤ 1 |
                | peak RSS of the process (all four services in one JVM) | %d MB | | | |
                """, Instant.now().toString().substring(0, 16), cores, modelName, batch, modelRate, forwardBatchMs,
                preRate, preMean, pipelineRate, limit, pipelineRate / limit, p50, p95, p99, latencyLimit,
                p99 / latencyLimit, peakRssMb);
        o.println();
        o.print(table);
        Files.writeString(out, table);
        o.println("written to " + out.toAbsolutePath());
        return 0;
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

    private static Set<String> ids(List<FolderIngest.Outcome> outcomes) {
        Set<String> ids = new HashSet<>();
        outcomes.stream().filter(FolderIngest.Outcome::isAccepted).forEach(x -> ids.add(x.accepted().getImageId()));
        return ids;
    }

    private static Set<String> await(ResultCollector results, List<FolderIngest.Outcome> outcomes)
            throws InterruptedException {
        Set<String> ids = ids(outcomes);
        Set<String> missing = results.await(ids, Duration.ofMinutes(2), n -> { });
        if (!missing.isEmpty()) {
            throw new IllegalStateException(missing.size() + " images did not come through the pipeline");
        }
        return ids;
    }

    private static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    /** Peak resident set size (VmHWM) of this process, from /proc; JVM heap high-water mark elsewhere. */
    private static long peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // not Linux
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() / (1024 * 1024);
    }
}
