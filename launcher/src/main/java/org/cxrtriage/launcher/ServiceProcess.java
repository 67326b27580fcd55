package org.cxrtriage.launcher;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One service as its own JVM (the way it runs in production), so it can be killed with SIGKILL mid-work and started
 * again with the same configuration.
 */
final class ServiceProcess {

    private final String name;
    private final String mainClass;
    private final int httpPort;
    private final Map<String, String> env;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private int niceness;
    private Process process;

    ServiceProcess(String name, String mainClass, int httpPort, Map<String, String> env, Path log) {
        this.name = name;
        this.mainClass = mainClass;
        this.httpPort = httpPort;
        this.env = env;
        this.log = log;
    }

    String name() {
        return name;
    }

    /**
     * Starts the JVM at this niceness (0, the default: as the launcher; higher: a lower CPU weight for all its
     * threads, which an unprivileged user may set). Returns this.
     */
    ServiceProcess niceness(int niceness) {
        if (niceness < 0 || niceness > 19) {
            throw new IllegalArgumentException("niceness must be 0-19, got " + niceness);
        }
        this.niceness = niceness;
        return this;
    }

    /** What goes before the java command: {@code nice -n N} (which execs java, keeping the PID) when N > 0. */
    static List<String> launchPrefix(int niceness) {
        return niceness == 0 ? List.of() : List.of("nice", "-n", Integer.toString(niceness));
    }

    int httpPort() {
        return httpPort;
    }

    /** Set to a folder to have every service JVM write a Java Flight Recorder profile there ({@code NAME.jfr}). */
    static final String JFR_DIR = "SERVICE_JFR_DIR";

    /** Extra JVM options for every service JVM, split on spaces (diagnostics, e.g. native memory tracking). */
    static final String JVM_OPTS = "SERVICE_JVM_OPTS";

    void start() throws IOException {
        List<String> cmd = new ArrayList<>(launchPrefix(niceness));
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions(name, System.getenv(JFR_DIR), System.getenv(JVM_OPTS)));
        if (java.lang.module.ModuleFinder.ofSystem().find("jdk.incubator.vector").isPresent()) {
            cmd.add("--add-modules=jdk.incubator.vector"); // vectorised neighbour search (similarity)
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        pb.environment().put("HTTP_PORT", Integer.toString(httpPort));
        process = pb.start();
    }

    /** The JVM options of one service: its heap, the launcher's settings, then the diagnostics asked for. */
    static List<String> jvmOptions(String serviceName, String jfrDir, String extraOpts) {
        List<String> options = new ArrayList<>();
        if (serviceName.startsWith("inference")) {
            // A fixed heap, touched at start: resident memory minus the committed heap is then exactly the native
            // memory (PyTorch) that the soak watches, not also heap pages the collector touches for the first time.
            options.addAll(List.of("-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch"));
        } else {
            options.add("-Xmx768m");
        }
        // Compiler threads that stay for the JVM's life, so the benchmark can count their CPU (CpuAccounting).
        options.add("-XX:-UseDynamicNumberOfCompilerThreads");
        // As every service JVM (Dockerfile, bin/common.sh): Java 17's code-cache sweeper throws out compiled code it
        // thinks cold, and recompiling it came in bursts that held up whole clusters of images (README, "p99 latency").
        options.add("-XX:-UseCodeCacheFlushing");
        options.add("-Dai.djl.offline=true");
        options.add("-Dorg.apache.avro.SERIALIZABLE_PACKAGES=org.cxrtriage");
        if (jfrDir != null && !jfrDir.isBlank()) { // profiling runs: one Flight Recorder file per service
            options.add("-XX:StartFlightRecording=settings=profile,filename="
                    + Path.of(jfrDir, serviceName + ".jfr").toAbsolutePath());
        }
        if (extraOpts != null && !extraOpts.isBlank()) {
            options.addAll(List.of(extraOpts.trim().split("\\s+")));
        }
        return options;
    }

    /** SIGKILL: no shutdown hook, no flush, no commit — the crash the guarantees must survive. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    /** SIGSTOP: the JVM stops where it is, holding its consumer group membership until its session times out. */
    void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause}. */
    void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String name) throws IOException, InterruptedException {
        if (!alive()) {
            throw new IllegalStateException(this.name + " is not running");
        }
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + name + " " + process.pid() + " failed (" + this.name + ")");
        }
    }

    /** SIGTERM and wait (the end of the run). */
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** Resident memory now and at its peak, in MB (Linux /proc: VmRSS, VmHWM; Java heap plus native). */
    record Memory(long rssMb, long peakRssMb) {
    }

    /** This process's memory; {@code Memory(-1, -1)} when it is not running or /proc is missing. */
    Memory memory() {
        if (!alive()) {
            return new Memory(-1, -1);
        }
        long rss = -1;
        long peak = -1;
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc", Long.toString(process.pid()),
                    "status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                } else if (line.startsWith("VmHWM:")) {
                    peak = Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or the process just ended
        }
        return new Memory(rss, peak);
    }

    /**
     * The JVM's committed heap in MB, summed over its heap pools from the service's own /metrics; -1 when it cannot
     * be read. RSS minus this is the native memory (PyTorch, thread stacks, metaspace, buffers).
     */
    long heapCommittedMb() {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
                    + "/metrics")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? heapCommittedMb(r.body()) : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Sums {@code jvm_memory_committed_bytes{area="heap",...}} in a Prometheus text exposition; -1 when absent. */
    static long heapCommittedMb(String prometheusText) {
        double bytes = 0;
        boolean found = false;
        for (String line : prometheusText.split("\n")) {
            if (line.startsWith("jvm_memory_committed_bytes{") && line.contains("area=\"heap\"")) {
                bytes += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                found = true;
            }
        }
        return found ? Math.round(bytes / (1024 * 1024)) : -1;
    }

    /** The operating system's process id; -1 before {@link #start}. */
    long pid() {
        return process == null ? -1 : process.pid();
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** Waits until /health answers 200; fails when the process died or the time is up. */
    void awaitHealthy(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!alive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log);
            }
            if (healthy()) {
                return;
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException(name + " not healthy within " + timeout + "; see " + log);
    }

    boolean healthy() {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
                    + "/health")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
