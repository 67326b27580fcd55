package org.cxrtriage.launcher;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.Settings;
import org.cxrtriage.similarity.CaseRecord;
import org.cxrtriage.similarity.CaseStore;
import org.cxrtriage.similarity.ExactNeighbourIndex;
import org.cxrtriage.similarity.HnswNeighbourIndex;
import org.cxrtriage.similarity.NeighbourIndex;
import org.cxrtriage.similarity.SimilarityProcessor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import redis.clients.jedis.RedisClient;

/**
 * Neighbour index at hospital-network scale: synthetic clustered embeddings, query latency p50/p99 of exact and
 * HNSW search, recall@4 of HNSW against exact, build time, heap, and the rebuild of the index from Redis.
 */
@Command(name = "bench-index", mixinStandardHelpOptions = true, description = "Benchmark the neighbour indexes.")
final class IndexBenchCommand implements Callable<Integer> {

    @Option(names = "--sizes", split = ",", defaultValue = "100000", description = "Case counts (default: ${DEFAULT-VALUE}).")
    List<Integer> sizes;

    @Option(names = "--dim", defaultValue = "128")
    int dim;

    @Option(names = "--queries", defaultValue = "300")
    int queries;

    @Option(names = "--distribution", defaultValue = "model-like",
            description = "Synthetic embeddings: model-like (ReLU of a 12-d latent Gaussian mixture: sparse, low "
                    + "intrinsic dimension, like the model's embeddings but harder) or isotropic (Gaussian clusters "
                    + "with full-rank noise: the worst case) (default: ${DEFAULT-VALUE}).")
    Distribution distribution;

    @Option(names = "--max-conn", split = ",", description = "HNSW M values, each built and measured (default: "
            + "the service's).")
    List<Integer> maxConns;

    @Option(names = "--beam-width", split = ",", description = "HNSW beam widths at insertion, each built and "
            + "measured (default: the service's).")
    List<Integer> beamWidths;

    @Option(names = "--ef", split = ",", description = "HNSW ef values to measure queries with, on the same graph "
            + "(default: the service's).")
    List<Integer> efs;

    @Option(names = "--from-memory", description = "Build the HNSW index from the generated cases instead of as a "
            + "cold-started service does (write the cases to Redis untimed, then time reading them back and indexing "
            + "them).")
    boolean fromMemory;

    @Option(names = "--insertion-order", split = ",", defaultValue = "locality",
            description = "Order of the cold rebuild's inserts, each built and measured: locality (what the service "
                    + "does: each batch of 100,000 sorted so similar cases are inserted together) or arrival (as Redis "
                    + "returns them) (default: ${DEFAULT-VALUE}). --from-memory always uses locality.")
    List<InsertionOrder> insertionOrders;

    enum InsertionOrder { locality, arrival }

    /** The targets at 1M cases, printed as ratios beside every HNSW row. */
    private static final double BUILD_TARGET_S = 60;
    private static final double P99_TARGET_MS = 2;

    @Option(names = "--snapshot-dir", defaultValue = "target/bench-index-snapshot",
            description = "Where the HNSW snapshot is written and reopened (default: ${DEFAULT-VALUE}).")
    Path snapshotDir;

    @Option(names = "--out", defaultValue = "bench-index.md")
    Path out;

    enum Distribution { model_like, isotropic;
        @Override
        public String toString() {
            return name().replace('_', '-');
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintStream o = System.out;
        HnswNeighbourIndex.Params defaults = HnswNeighbourIndex.DEFAULT_PARAMS;
        List<Integer> mValues = maxConns != null && !maxConns.isEmpty() ? maxConns : List.of(defaults.maxConn());
        List<Integer> beams = beamWidths != null && !beamWidths.isEmpty() ? beamWidths
                : List.of(defaults.beamWidth());
        List<Integer> efList = efs != null && !efs.isEmpty() ? efs : List.of(defaults.efSearch());
        o.printf(Locale.ROOT, "embeddings: %s, %d-d; HNSW M %s, beam width %s, ef %s; %d queries (own patient "
                + "excluded), up to 200 warm-up; distances %s%n", distribution, dim, mValues, beams, efList, queries,
                org.cxrtriage.similarity.Distances.vectorised() ? "vectorised (Vector API)"
                        : "scalar (start the JVM with --add-modules=jdk.incubator.vector)");
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "| cases | embeddings | index | M / beam / ef | build s | build / 60 s | query p50 ms | query p99 ms "
                        + "| p99 / 2 ms | recall@4 | heap MB | restart from snapshot s |%n"
                        + "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |%n"));
        for (int n : sizes) {
            List<CaseRecord> cases = synthetic(distribution, n, dim, 7);
            Random rnd = new Random(99);
            List<CaseRecord> qs = new ArrayList<>();
            for (int i = 0; i < queries; i++) {
                qs.add(cases.get(rnd.nextInt(n)));
            }
            List<Set<String>> truth = new ArrayList<>();
            // Exact search: the reference answers.
            System.gc();
            long heap0 = usedHeap();
            long t0 = System.nanoTime();
            ExactNeighbourIndex exact = new ExactNeighbourIndex();
            exact.putAll(cases);
            double exactBuild = (System.nanoTime() - t0) / 1e9;
            System.gc();
            long exactHeap = (usedHeap() - heap0) / (1024 * 1024);
            double[] ms = measure(exact, qs, truth, null, 20);
            table.append(row(n, "exact", "", exactBuild, ms, "1 (reference)", exactHeap, ""));
            o.print(lastRow(table));
            exact = null;

            // HNSW, built the way a cold-started service builds it.
            try (RedisCases redis = fromMemory ? null : RedisCases.write(cases)) {
                for (int m : mValues) {
                    for (int beam : beams) {
                        for (InsertionOrder order : fromMemory ? List.of(InsertionOrder.locality)
                                : insertionOrders) {
                            measureHnsw(n, cases, qs, truth, redis, order, new HnswNeighbourIndex.Params(m, beam,
                                    efList.get(0)), efList, table);
                        }
                    }
                }
            }
        }
        o.println();
        o.print(table);
        Files.writeString(out, table.toString());
        o.println("written to " + out.toAbsolutePath());
        return 0;
    }

    private void measureHnsw(int n, List<CaseRecord> cases, List<CaseRecord> qs, List<Set<String>> truth,
            RedisCases redis, InsertionOrder order, HnswNeighbourIndex.Params params, List<Integer> efList,
            StringBuilder table)
            throws java.io.IOException {
        deleteTree(snapshotDir);
        System.gc();
        long heap0 = usedHeap();
        HnswNeighbourIndex hnsw = new HnswNeighbourIndex(params, snapshotDir);
        String buildLabel;
        double buildSeconds;
        long t0 = System.nanoTime();
        if (redis != null) {
            double[] readAndRebuild = redis.readInto(hnsw, order == InsertionOrder.locality);
            buildSeconds = readAndRebuild[1];
            buildLabel = String.format(Locale.ROOT, "%.1f (from Redis, %s order; reading alone %.1f)", buildSeconds,
                    order, readAndRebuild[0]);
        } else {
            putInChunks(hnsw, cases, t0);
            hnsw.refresh();
            buildSeconds = (System.nanoTime() - t0) / 1e9;
            buildLabel = String.format(Locale.ROOT, "%.1f (from memory)", buildSeconds);
        }
        System.gc();
        long hnswHeap = (usedHeap() - heap0) / (1024 * 1024);
        System.out.printf(Locale.ROOT, "hnsw: %d cases in %d segments, built in %s s%n", hnsw.size(),
                hnsw.segments(), buildLabel);
        for (int ef : efList) {
            hnsw.efSearch(ef);
            int[] found = new int[1];
            double[] ms = measure(hnsw, qs, truth, found, 200);
            String recall = String.format(Locale.ROOT, "%.4f", found[0] / (4.0 * qs.size()));
            String restart = "";
            if (ef == efList.get(efList.size() - 1)) {
                hnsw.commit(n, "bench");
                hnsw.close();
                restart = String.format(Locale.ROOT, "%.1f", restart(n));
            }
            table.append(row(n, distribution + "", "hnsw", params.maxConn() + " / " + params.beamWidth() + " / " + ef,
                    buildLabel, buildSeconds, ms, recall, hnswHeap, restart));
            System.out.print(lastRow(table));
        }
    }

    private String row(int n, String index, String params, double build, double[] ms, String recall, long heap,
            String restart) {
        return row(n, distribution + "", index, params, String.format(Locale.ROOT, "%.1f", build), Double.NaN, ms,
                recall, heap, restart);
    }

    /** A table row; {@code buildSeconds} NaN leaves the build ratio out (exact search has no build to speak of). */
    private static String row(int n, String embeddings, String index, String params, String build,
            double buildSeconds, double[] ms, String recall, long heap, String restart) {
        double p99 = ms[(int) Math.ceil(ms.length * 0.99) - 1];
        String buildRatio = Double.isNaN(buildSeconds) ? ""
                : String.format(Locale.ROOT, "%.2f", buildSeconds / BUILD_TARGET_S);
        return String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %s | %.3f | %.3f | %.2f | %s | %d | %s |%n", n,
                embeddings, index, params, build, buildRatio, ms[ms.length / 2], p99, p99 / P99_TARGET_MS, recall,
                heap, restart);
    }

    private static String lastRow(StringBuilder table) {
        return table.substring(table.lastIndexOf("\n", table.length() - 2) + 1);
    }

    /**
     * Untimed warm-up (JIT, searcher caches), then one timed search per query; the sorted latencies in ms. With
     * {@code found} null the answers become the reference ({@code truth}); otherwise found[0] counts agreements.
     */
    private static double[] measure(NeighbourIndex index, List<CaseRecord> qs, List<Set<String>> truth, int[] found,
            int warmUp) {
        int queries = qs.size();
        for (int i = 0; i < Math.min(warmUp, queries); i++) {
            index.search(qs.get((i * 7) % queries).embedding(), 4, null);
        }
        double[] ms = new double[queries];
        for (int i = 0; i < queries; i++) {
            CaseRecord q = qs.get(i);
            long t = System.nanoTime();
            List<NeighbourIndex.Hit> hits = index.search(q.embedding(), 4, q.patientRef());
            ms[i] = (System.nanoTime() - t) / 1e6;
            Set<String> ids = new HashSet<>();
            hits.forEach(h -> ids.add(h.record().imageId()));
            if (found == null) {
                truth.add(ids);
            } else {
                found[0] += (int) ids.stream().filter(truth.get(i)::contains).count();
            }
        }
        Arrays.sort(ms);
        return ms;
    }

    private static void putInChunks(NeighbourIndex index, List<CaseRecord> cases, long t0) {
        int n = cases.size();
        for (int from = 0; from < n; from += 100_000) {
            index.putAll(cases.subList(from, Math.min(n, from + 100_000)));
            System.out.printf(Locale.ROOT, "hnsw: %d/%d indexed (%.0f s)%n", Math.min(n, from + 100_000), n,
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    /** Times reopening the snapshot (graph + every case back in memory), as a restarted service does. */
    private double restart(int n) {
        long t0 = System.nanoTime();
        try (HnswNeighbourIndex reopened = new HnswNeighbourIndex(HnswNeighbourIndex.DEFAULT_EF_SEARCH, snapshotDir)) {
            if (reopened.size() != n) {
                throw new IllegalStateException("snapshot reopened with " + reopened.size() + " of " + n + " cases");
            }
            reopened.search(new float[dim], 4, null);
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        if (Files.exists(dir)) {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** The synthetic cases written to Redis under a fresh prefix (untimed), removed on close. */
    private static final class RedisCases implements AutoCloseable {
        private final RedisClient redis;
        private final CaseStore store;

        private RedisCases(RedisClient redis, CaseStore store) {
            this.redis = redis;
            this.store = store;
        }

        static RedisCases write(List<CaseRecord> cases) {
            Settings settings = Settings.fromEnv();
            RedisClient redis = RedisClient.create(URI.create(settings.string(CommonKeys.REDIS_URL,
                    CommonKeys.DEFAULT_REDIS_URL)));
            CaseStore store = new CaseStore(redis, "cxr:bench-index-" + System.nanoTime() + ":");
            System.out.printf(Locale.ROOT, "redis: writing %d cases (untimed)%n", cases.size());
            store.saveAll(cases);
            return new RedisCases(redis, store);
        }

        /**
         * What a cold-started service does: reads every case back and indexes it ({@link SimilarityProcessor}'s
         * rebuild). Returns {the seconds reading alone takes (timed separately first), the rebuild's seconds}.
         */
        double[] readInto(HnswNeighbourIndex index, boolean localityOrder) {
            long t0 = System.nanoTime();
            int read = store.loadAll().size();
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "redis: reading %d cases alone takes %.1f s%n", read, seconds);
            long t1 = System.nanoTime();
            int indexed = SimilarityProcessor.loadInto(store, index, localityOrder, done -> System.out.printf(
                    Locale.ROOT, "hnsw: %d indexed (%.0f s)%n", done, (System.nanoTime() - t1) / 1e9));
            double rebuild = (System.nanoTime() - t1) / 1e9;
            if (indexed != read) {
                throw new IllegalStateException("indexed " + indexed + " of " + read + " cases");
            }
            return new double[] {seconds, rebuild};
        }

        @Override
        public void close() {
            store.deleteAll();
            redis.close();
        }
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    /**
     * Synthetic embeddings, two images per patient (the second a small step from the first, like a follow-up X-ray).
     *
     * <ul>
     *   <li>model-like: ReLU(W z + b) with z from a mixture of 64 Gaussians in 12 dimensions and W, b random. The
     *       default model's own embeddings of the shared X-rays are sparser and of lower dimension (85% zeros, 79 of
     *       128 units never active, 99% of the variance in 2 principal components, local intrinsic dimension about
     *       4.5); these have 59% zeros and a local intrinsic dimension of about 10, so the figures are conservative
     *       for a retrained model too.</li>
     *   <li>isotropic: 64 Gaussian clusters with unit noise in every dimension (intrinsic dimension about 40):
     *       nothing a trained network produces, the worst case for any approximate index.</li>
     * </ul>
     */
    static List<CaseRecord> synthetic(Distribution distribution, int n, int dim, long seed) {
        Random rnd = new Random(seed);
        int clusters = 64;
        int latent = distribution == Distribution.model_like ? 12 : dim;
        double spread = distribution == Distribution.model_like ? 2 : 3;
        float[][] centres = new float[clusters][latent];
        for (float[] c : centres) {
            for (int j = 0; j < latent; j++) {
                c[j] = (float) (rnd.nextGaussian() * spread);
            }
        }
        float[][] w = new float[dim][latent];
        float[] bias = new float[dim];
        for (int i = 0; i < dim; i++) {
            for (int j = 0; j < latent; j++) {
                w[i][j] = (float) (rnd.nextGaussian() / Math.sqrt(latent));
            }
            bias[i] = (float) (rnd.nextGaussian() * 0.5 - 0.5);
        }
        List<CaseRecord> out = new ArrayList<>(n);
        float[] z = new float[latent];
        for (int i = 0; i < n; i++) {
            if (i % 2 == 0) {
                float[] c = centres[rnd.nextInt(clusters)];
                for (int j = 0; j < latent; j++) {
                    z[j] = c[j] + (float) rnd.nextGaussian();
                }
            } else {
                for (int j = 0; j < latent; j++) {
                    z[j] += (float) (rnd.nextGaussian() * 0.25);
                }
            }
            float[] v = new float[dim];
            if (distribution == Distribution.model_like) {
                for (int r = 0; r < dim; r++) {
                    float a = bias[r];
                    for (int j = 0; j < latent; j++) {
                        a += w[r][j] * z[j];
                    }
                    v[r] = Math.max(0, a);
                }
            } else {
                System.arraycopy(z, 0, v, 0, dim);
            }
            out.add(new CaseRecord("img-" + i, "p-" + (i / 2), "site-" + (i % 7), i, 0.5f, i % 3 == 0, v, null));
        }
        return out;
    }
}
