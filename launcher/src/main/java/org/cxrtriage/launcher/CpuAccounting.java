package org.cxrtriage.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of every process on the machine, grouped by what it is (a service by its main class, the broker, the
 * registry, Redis, this benchmark's own client): taken before and after a phase, the difference says where the
 * pipeline's cores went. Linux /proc only; elsewhere every snapshot is empty.
 */
final class CpuAccounting {

    /** Linux's USER_HZ: the unit of utime/stime in /proc/[pid]/stat. */
    private static final double TICKS_PER_SECOND = 100;

    private static final List<String[]> LABELS = List.of(
            new String[] {"org.cxrtriage.ingest.IngestMain", "ingest service"},
            new String[] {"org.cxrtriage.preprocess.PreprocessMain", "preprocess service"},
            new String[] {"org.cxrtriage.inference.InferenceMain", "inference service(s)"},
            new String[] {"org.cxrtriage.similarity.SimilarityMain", "similarity service"},
            new String[] {"kafka.Kafka", "Kafka broker"},
            new String[] {"apicurio", "schema registry"},
            new String[] {"redis-server", "Redis"});

    private CpuAccounting() {
    }

    /** CPU seconds (user + system) used so far, per group. */
    static Map<String, Double> snapshot() {
        Map<String, Double> seconds = new LinkedHashMap<>();
        long self = ProcessHandle.current().pid();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    // Fields after the parenthesised command (which may hold spaces): utime and stime are 14 and 15.
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
                    String label = Long.parseLong(name) == self ? "benchmark client (uploads, result consumer)"
                            : label(Files.readString(p.resolve("cmdline")).replace('\0', ' '));
                    seconds.merge(label, cpu, Double::sum);
                } catch (IOException | RuntimeException e) {
                    // the process ended between the listing and the read
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        return seconds;
    }

    /**
     * CPU seconds used so far by the JIT compiler threads of every JVM on the machine. Exact only while those threads
     * live for the whole phase: a JVM started with {@code -XX:-UseDynamicNumberOfCompilerThreads} keeps them.
     */
    static double compilerSeconds() {
        double seconds = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                if (!p.getFileName().toString().chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try (Stream<Path> tasks = Files.list(p.resolve("task"))) {
                    for (Path t : (Iterable<Path>) tasks::iterator) {
                        seconds += compilerSeconds(Files.readString(t.resolve("stat")));
                    }
                } catch (IOException | RuntimeException e) {
                    // the process or thread ended between the listing and the read
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return seconds;
    }

    /** CPU seconds of one thread's /proc stat line if it is a HotSpot compiler thread ("C2 CompilerThre"), else 0. */
    static double compilerSeconds(String threadStat) {
        String comm = threadStat.substring(threadStat.indexOf('(') + 1, threadStat.lastIndexOf(')'));
        if (!comm.contains("CompilerThre")) {
            return 0;
        }
        String[] f = threadStat.substring(threadStat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
    }

    static String label(String commandLine) {
        for (String[] l : LABELS) {
            if (commandLine.contains(l[0])) {
                return l[1];
            }
        }
        return "everything else";
    }

    /** CPU seconds per group between two snapshots (groups with no change left out), largest first. */
    static Map<String, Double> between(Map<String, Double> before, Map<String, Double> after) {
        Map<String, Double> used = new LinkedHashMap<>();
        after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
                .filter(e -> e.getValue() > 0.005)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> used.put(e.getKey(), e.getValue()));
        return used;
    }
}
