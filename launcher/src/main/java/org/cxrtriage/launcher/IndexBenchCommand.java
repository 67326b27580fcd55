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

    @Option(names = "--redis-rebuild", defaultValue = "true", negatable = true,
            description = "Also time writing the cases to Redis and rebuilding the index from it.")
    boolean redisRebuild;

    @Option(names = "--redis-rebuild-max", defaultValue = "100000",
            description = "Time the cold rebuild from Redis only up to this many cases (default: ${DEFAULT-VALUE}).")
    int redisRebuildMax;

    @Option(names = "--snapshot-dir", defaultValue = "target/bench-index-snapshot",
            description = "Where the HNSW snapshot is written and reopened (default: ${DEFAULT-VALUE}).")
    Path snapshotDir;

    @Option(names = "--out", defaultValue = "bench-index.md")
    Path out;

    @Override
    public Integer call() throws Exception {
        PrintStream o = System.out;
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "| cases | index | build s | query p50 ms | query p99 ms | recall@4 | heap MB | restart from snapshot s "
                        + "| cold rebuild from Redis s |%n| --- | --- | --- | --- | --- | --- | --- | --- | --- |%n"));
        for (int n : sizes) {
            List<CaseRecord> cases = synthetic(n, dim, 7);
            Random rnd = new Random(99);
            List<CaseRecord> qs = new ArrayList<>();
            for (int i = 0; i < queries; i++) {
                qs.add(cases.get(rnd.nextInt(n)));
            }
            List<Set<String>> truth = new ArrayList<>();
            for (String kind : List.of("exact", "hnsw")) {
                System.gc();
                long heap0 = usedHeap();
                long t0 = System.nanoTime();
                deleteTree(snapshotDir);
                NeighbourIndex index = kind.equals("exact") ? new ExactNeighbourIndex()
                        : new HnswNeighbourIndex(HnswNeighbourIndex.DEFAULT_EF_SEARCH, snapshotDir);
                for (int from = 0; from < n; from += 100_000) {
                    index.putAll(cases.subList(from, Math.min(n, from + 100_000)));
                    o.printf("%s: %d/%d indexed (%.0f s)%n", kind, Math.min(n, from + 100_000), n,
                            (System.nanoTime() - t0) / 1e9);
                }
                if (index instanceof HnswNeighbourIndex h) {
                    h.optimise();
                }
                double build = (System.nanoTime() - t0) / 1e9;
                System.gc();
                long heap = (usedHeap() - heap0) / (1024 * 1024);
                // Untimed warm-up (JIT, searcher caches): the table reports steady-state latency.
                for (int i = 0; i < Math.min(200, queries); i++) {
                    index.search(qs.get((i * 7) % queries).embedding(), 4, null);
                }
                double[] ms = new double[queries];
                int found = 0;
                for (int i = 0; i < queries; i++) {
                    CaseRecord q = qs.get(i);
                    long t = System.nanoTime();
                    List<NeighbourIndex.Hit> hits = index.search(q.embedding(), 4, q.patientRef());
                    ms[i] = (System.nanoTime() - t) / 1e6;
                    Set<String> ids = new HashSet<>();
                    hits.forEach(h -> ids.add(h.record().imageId()));
                    if (kind.equals("exact")) {
                        truth.add(ids);
                    } else {
                        found += (int) ids.stream().filter(truth.get(i)::contains).count();
                    }
                }
                Arrays.sort(ms);
                String recall = kind.equals("exact") ? "1 (reference)"
                        : String.format(Locale.ROOT, "%.4f", found / (4.0 * queries));
                String restart = "";
                if (index instanceof HnswNeighbourIndex h) {
                    h.commit(n, "bench");
                    h.close();
                    restart = String.format(Locale.ROOT, "%.1f", restart(n));
                }
                table.append(String.format(Locale.ROOT, "| %d | %s | %.1f | %.3f | %.3f | %s | %d | %s | %s |%n", n,
                        kind, build, ms[queries / 2], ms[(int) Math.ceil(queries * 0.99) - 1], recall, heap, restart,
                        kind.equals("hnsw") && redisRebuild && n <= redisRebuildMax
                                ? String.format(Locale.ROOT, "%.1f", rebuild(cases)) : ""));
                o.print(table.substring(table.lastIndexOf("| " + n + " | " + kind)));
            }
        }
        o.println();
        o.print(table);
        Files.writeString(out, table.toString());
        o.println("written to " + out.toAbsolutePath());
        return 0;
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

    /** Writes the cases to Redis under a fresh prefix, then times loading them and rebuilding an HNSW index. */
    private double rebuild(List<CaseRecord> cases) {
        Settings settings = Settings.fromEnv();
        String prefix = "cxr:bench-index-" + System.nanoTime() + ":";
        try (RedisClient redis = RedisClient.create(URI.create(settings.string(CommonKeys.REDIS_URL,
                CommonKeys.DEFAULT_REDIS_URL)))) {
            CaseStore store = new CaseStore(redis, prefix);
            store.saveAll(cases);
            long t0 = System.nanoTime();
            List<CaseRecord> loaded = store.loadAll();
            try (HnswNeighbourIndex index = new HnswNeighbourIndex()) {
                index.putAll(loaded);
                index.optimise();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            store.deleteAll();
            return seconds;
        }
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    /** Gaussian clusters (like embeddings of similar X-rays); two images per patient. */
    static List<CaseRecord> synthetic(int n, int dim, long seed) {
        Random rnd = new Random(seed);
        int clusters = 64;
        float[][] centres = new float[clusters][dim];
        for (float[] c : centres) {
            for (int j = 0; j < dim; j++) {
                c[j] = (float) (rnd.nextGaussian() * 3);
            }
        }
        List<CaseRecord> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] c = centres[rnd.nextInt(clusters)];
            float[] v = new float[dim];
            for (int j = 0; j < dim; j++) {
                v[j] = c[j] + (float) rnd.nextGaussian();
            }
            out.add(new CaseRecord("img-" + i, "p-" + (i / 2), "site-" + (i % 7), i, 0.5f, i % 3 == 0, v, null));
        }
        return out;
    }
}
