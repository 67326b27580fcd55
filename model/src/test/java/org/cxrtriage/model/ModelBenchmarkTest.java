package org.cxrtriage.model;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Latency and weight-file size; off by default. Run alone (threads are fixed per JVM):
 * {@code mvn -B -q -pl model test -Dtest=ModelBenchmarkTest -Dcxr.benchmark=true -Dcxr.benchmark.threads=1}
 */
@EnabledIfSystemProperty(named = "cxr.benchmark", matches = "true")
class ModelBenchmarkTest {
    @TempDir
    Path tmp;

    @Test
    void measure() throws IOException {
        int threads = Integer.getInteger("cxr.benchmark.threads", 1);
        TorchRuntime.configureThreads(threads, 1);
        long t0 = System.nanoTime();
        TorchRuntime.engine();
        System.out.printf("engine start %.0f ms, intra-op threads %d%n", (System.nanoTime() - t0) / 1e6, threads);
        for (Backbone backbone : List.of(Backbone.RESNET18, Backbone.RESNET50)) {
            for (int size : new int[] {224, 256}) {
                Path dir = tmp.resolve(backbone + "-" + size);
                long c0 = System.nanoTime();
                ModelDirectory.createSeeded(dir, backbone, size, 128, 1L, "bench", "1");
                long createMs = (System.nanoTime() - c0) / 1_000_000;
                long bytes = Files.size(ModelDirectory.weightsFile(dir).orElseThrow());
                long l0 = System.nanoTime();
                try (LoadedModel model = ModelDirectory.load(dir, Device.cpu())) {
                    long loadMs = (System.nanoTime() - l0) / 1_000_000;
                    System.out.printf("%s: weights %,d bytes (%.1f MiB), createSeeded %d ms, load %d ms%n",
                            backbone, bytes, bytes / 1048576.0, createMs, loadMs);
                    for (int batch : new int[] {1, 8}) {
                        time(model, backbone, size, batch);
                    }
                }
            }
        }
    }

    private static void time(LoadedModel model, Backbone backbone, int size, int batch) {
        List<ModelInput> inputs = TestModels.randomInputs(batch, size, 3);
        int runs = batch == 1 ? 20 : 5;
        double[] ms = new double[runs];
        double[] cpu = new double[runs];
        java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        try (CxrPredictor predictor = new CxrPredictor(model, batch)) {
            long w0 = System.nanoTime();
            predictor.warmUp();
            double warmMs = (System.nanoTime() - w0) / 1e6;
            long rss0 = rssKb();
            for (int i = 0; i < runs; i++) {
                long c = bean.getCurrentThreadCpuTime();
                long s = System.nanoTime();
                predictor.predict(inputs);
                ms[i] = (System.nanoTime() - s) / 1e6;
                cpu[i] = (bean.getCurrentThreadCpuTime() - c) / 1e6;
            }
            long rss1 = rssKb();
            Arrays.sort(ms);
            Arrays.sort(cpu);
            // With 1 intra-op thread the forward runs on this thread, so its CPU time ignores other load.
            System.out.printf("  %s @%d batch %d: wall median %.0f / min %.0f ms, caller-thread CPU median %.0f ms"
                    + " (%.0f ms/image), warm-up %.0f ms, RSS %d -> %d MiB over %d runs%n", backbone, size, batch,
                    ms[runs / 2], ms[0], cpu[runs / 2], ms[0] / batch, warmMs, rss0 / 1024, rss1 / 1024, runs);
        }
    }

    private static long rssKb() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("VmRSS:"))
                    .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")))
                    .findFirst().orElse(-1);
        } catch (IOException e) {
            return -1;
        }
    }
}
