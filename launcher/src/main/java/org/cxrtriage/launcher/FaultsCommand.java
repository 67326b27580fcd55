package org.cxrtriage.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.Pseudonymiser;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Settings;
import org.cxrtriage.common.TopicReplay;
import org.cxrtriage.ingest.FolderSource;
import org.cxrtriage.schemas.AvroSerdes;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.Topic;
import org.cxrtriage.similarity.AlertPolicy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import redis.clients.jedis.RedisClient;

/**
 * The fault-injection suite: streams real X-rays over HTTP into the four services, each its own JVM, and while they
 * work kills each service with SIGKILL and starts it again, kills and restarts the broker, and kills Redis (which comes
 * back empty). Then it balances the books ({@link DeliveryAccounting}) and prints the faults and the counts.
 */
@Command(name = "faults", mixinStandardHelpOptions = true,
        description = "Crash every service, the broker and Redis during a run; check nothing was lost or duplicated.")
final class FaultsCommand implements Callable<Integer> {

    @Mixin
    ImageFolderOptions folder;

    @Option(names = "--count", description = "Images to send, spread over the folder (default: ${DEFAULT-VALUE}).",
            defaultValue = "300")
    int count;

    @Option(names = "--rate", description = "Images per second sent (default: ${DEFAULT-VALUE}).", defaultValue = "3")
    double rate;

    @Option(names = "--port-base", description = "HTTP ports: ingest, preprocess, inference, similarity from here "
            + "(default: ${DEFAULT-VALUE}).", defaultValue = "28090")
    int portBase;

    @Option(names = "--stack", description = "The stack script used to crash the broker and Redis "
            + "(default: ${DEFAULT-VALUE}).", defaultValue = "scripts/stack.sh")
    Path stackScript;

    @Option(names = "--out", description = "Folder for the report and the service logs (default: ${DEFAULT-VALUE}).",
            defaultValue = "target/faults")
    Path out;

    @Option(names = "--timeout", description = "Give up waiting for the pipeline to finish after (default: "
            + "${DEFAULT-VALUE}).", defaultValue = "PT10M")
    Duration timeout;

    private static final String TOKEN = "fault-suite-token";

    /** One fault as it happened. */
    record FaultRecord(String fault, double atSeconds, double recoverySeconds, int acceptedBefore) {
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final long t0 = System.nanoTime();

    @Override
    public Integer call() throws Exception {
        PrintStream console = System.out;
        Files.createDirectories(out.resolve("logs"));
        Settings settings = Settings.fromEnv();
        String pseudonymKey = "fault-suite-" + System.currentTimeMillis();
        String redisPrefix = "cxr:faults-" + System.currentTimeMillis() + ":";
        Map<String, String> env = new HashMap<>();
        env.put(CommonKeys.REDIS_KEY_PREFIX, redisPrefix);
        env.put(Pseudonymiser.KEY_SETTING, pseudonymKey);
        env.put("API_TOKENS", TOKEN + "=*");
        env.put("PREPROCESS_STATE_DIR", out.resolve("streams-state").toAbsolutePath().toString());
        Map<String, ServiceProcess> services = new LinkedHashMap<>();
        services.put("similarity", service("similarity", "org.cxrtriage.similarity.SimilarityMain", 3, env));
        services.put("inference", service("inference", "org.cxrtriage.inference.InferenceMain", 2, env));
        services.put("preprocess", service("preprocess", "org.cxrtriage.preprocess.PreprocessMain", 1, env));
        services.put("ingest", service("ingest", "org.cxrtriage.ingest.IngestMain", 0, env));

        List<FolderSource.Item> items = RunCommand.spread(folder.items(), count);
        console.printf("fault suite: %d images, services as separate JVMs, logs in %s%n", items.size(),
                out.resolve("logs"));
        List<FaultRecord> faults = new ArrayList<>();
        DeliveryAccounting books = new DeliveryAccounting();
        Pseudonymiser pseudonyms = new Pseudonymiser(pseudonymKey);
        AtomicInteger sent = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        Map<String, Integer> refusals = new ConcurrentHashMap<>();
        try {
            for (ServiceProcess s : services.values()) {
                s.start();
                s.awaitHealthy(Duration.ofMinutes(3));
                console.printf("  %-10s up on :%d (%.0f s)%n", s.name(), s.httpPort(), seconds());
            }
            IngestUploader uploader = new IngestUploader(services.get("ingest").httpPort(), TOKEN);
            ExecutorService senders = Executors.newFixedThreadPool(2);
            List<Future<?>> done = new ArrayList<>();
            for (FolderSource.Item item : items) {
                done.add(senders.submit(() -> {
                    pause(nextSlot() - System.nanoTime());
                    String id = uploader.upload(item, refusals);
                    if (id != null) {
                        synchronized (books) {
                            books.accepted(id, pseudonyms.patientRef(item.metadata().patientId()));
                        }
                    } else {
                        refused.incrementAndGet();
                    }
                    sent.incrementAndGet();
                    return null;
                }));
            }
            List<String> schedule = List.of("kill -9 ingest", "kill -9 preprocess", "kill -9 inference",
                    "kill -9 similarity", "kill -9 broker", "kill -9 redis (restarts empty)");
            for (int k = 0; k < schedule.size(); k++) {
                int before = (k + 1) * items.size() / (schedule.size() + 1);
                while (sent.get() < before) {
                    Thread.sleep(100);
                }
                String fault = schedule.get(k);
                double at = seconds();
                inject(fault, services);
                faults.add(new FaultRecord(fault, at, seconds() - at, sent.get()));
                console.printf("  fault %-32s at %5.1f s, recovered in %4.1f s (%d images sent)%n", fault, at,
                        seconds() - at, sent.get());
            }
            for (Future<?> f : done) {
                f.get();
            }
            senders.shutdown();
            console.printf("  all %d images sent (%d refused at ingest) at %.0f s; waiting for the pipeline%n",
                    items.size(), refused.get(), seconds());
            long deadline = System.nanoTime() + timeout.toNanos();
            DeliveryAccounting settled;
            do {
                Thread.sleep(2000);
                settled = readBooks(settings, books);
            } while (!settled.complete() && System.nanoTime() < deadline);
            checkIndex(settled, services.get("similarity").httpPort(), settings, redisPrefix);
            countAbortedOutputs(settings, settled);
            DeliveryAccounting.Report report = settled.report();
            String table = table(faults, report, refusals, items.size());
            console.print(table);
            Files.writeString(out.resolve("report.md"), table);
            for (String v : report.violations().subList(0, Math.min(20, report.violations().size()))) {
                console.println("  VIOLATION: " + v);
            }
            console.println(report.balanced() ? "fault suite: PASSED (0 lost, 0 duplicated)"
                    : "fault suite: FAILED (" + report.violations().size() + " violations)");
            return report.balanced() ? 0 : 1;
        } finally {
            List<ServiceProcess> reverse = new ArrayList<>(services.values());
            java.util.Collections.reverse(reverse);
            for (ServiceProcess s : reverse) {
                s.stop();
            }
        }
    }

    private ServiceProcess service(String name, String main, int offset, Map<String, String> env) {
        return new ServiceProcess(name, main, portBase + offset, env, out.resolve("logs").resolve(name + ".log"));
    }

    private void inject(String fault, Map<String, ServiceProcess> services) throws Exception {
        if (fault.contains("broker")) {
            stack("crash", "kafka");
            return;
        }
        if (fault.contains("redis")) {
            stack("crash", "redis");
            return;
        }
        ServiceProcess s = services.get(fault.substring("kill -9 ".length()));
        s.kill();
        s.start();
        s.awaitHealthy(Duration.ofMinutes(3));
    }

    private void stack(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", stackScript.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.resolve("logs/stack.log").toFile())).start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed; see " + out.resolve("logs/stack.log"));
        }
    }

    /** Reads every committed record of the topics into a copy of the books (the senders' side already in it). */
    private static DeliveryAccounting readBooks(Settings settings, DeliveryAccounting sentSide) {
        DeliveryAccounting books = new DeliveryAccounting();
        synchronized (sentSide) {
            for (var e : sentSide.acceptedEntries().entrySet()) {
                books.accepted(e.getKey(), e.getValue());
            }
        }
        AvroSerdes serdes = RegistrySettings.serdes(settings);
        AlertPolicy policy = AlertPolicy.modelCall();
        TopicReplay.read(settings, Topic.IMAGES.name(), serdes.deserializer(Topic.IMAGES), null,
                r -> books.image(r.key()));
        TopicReplay.read(settings, Topic.SCORES.name(), serdes.deserializer(Topic.SCORES), null,
                r -> books.score(r.value().getImageId(), r.value().getPatientRef(), policy.shouldAlert(
                        r.value().getProbability(), r.value().getThreshold(), Float.NaN, 0)));
        TopicReplay.read(settings, Topic.REJECTED.name(), serdes.deserializer(Topic.REJECTED), null,
                r -> books.rejection(r.value().getImageId()));
        TopicReplay.read(settings, Topic.NEIGHBOURS.name(), serdes.deserializer(Topic.NEIGHBOURS), null,
                r -> books.neighbours(r.value().getImageId()));
        TopicReplay.read(settings, Topic.ALERTS.name(), serdes.deserializer(Topic.ALERTS), null,
                r -> {
                    CxrAlert a = r.value();
                    if (a.getEvent() == org.cxrtriage.schemas.AlertEvent.OPENED) {
                        books.alert(a.getPatientRef());
                    } else if (a.getEvent() == org.cxrtriage.schemas.AlertEvent.UPDATED) {
                        books.alertUpdate(a.getAlertId(), a.getImageId());
                    } // RETRACTED: the suite retracts nothing (RetractionTest, PipelineEndToEndTest)
                    if (a.getEvent() != org.cxrtriage.schemas.AlertEvent.RETRACTED) {
                        books.alertRevision(a.getAlertId(), a.getImageId(), a.getRevision(), a.getImageCount());
                    }
                });
        return books;
    }

    /** Reads the output topics uncommitted as well: the difference is what aborted attempts wrote. */
    private static void countAbortedOutputs(Settings settings, DeliveryAccounting books) {
        AvroSerdes serdes = RegistrySettings.serdes(settings);
        for (Topic<?> t : List.of(Topic.TENSORS, Topic.SCORES, Topic.NEIGHBOURS, Topic.ALERTS)) {
            long all = TopicReplay.read(settings, t.name(), serdes.deserializer(t), null, false, r -> { });
            long visible = TopicReplay.read(settings, t.name(), serdes.deserializer(t), null, true, r -> { });
            books.abortedOutputs(all - visible);
        }
    }

    /** A case is indexed when the service finds it (in-memory index) and Redis holds it. */
    private void checkIndex(DeliveryAccounting books, int port, Settings settings, String prefix) throws Exception {
        try (RedisClient redis = RedisClient.create(URI.create(settings.string(CommonKeys.REDIS_URL,
                CommonKeys.DEFAULT_REDIS_URL)))) {
            for (String id : books.acceptedIds()) {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                                + "/cases/" + id + "/similar?limit=1")).header("Authorization", "Bearer " + TOKEN)
                        .build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200 && redis.exists(prefix + "case:" + id)) {
                    books.indexed(id);
                }
            }
        }
    }

    private static String table(List<FaultRecord> faults, DeliveryAccounting.Report report,
                                Map<String, Integer> refusals, int images) {
        StringBuilder t = new StringBuilder();
        t.append(String.format(Locale.ROOT, "%n| fault injected | at (s) | back in (s) | images sent before |%n"
                + "| --- | ---: | ---: | ---: |%n"));
        for (FaultRecord f : faults) {
            t.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %d |%n", f.fault(), f.atSeconds(),
                    f.recoverySeconds(), f.acceptedBefore()));
        }
        t.append(String.format(Locale.ROOT, "%n| count | value |%n| --- | ---: |%n| images sent | %d |%n", images));
        refusals.forEach((reason, n) -> t.append(String.format(Locale.ROOT, "| refused at ingest: %s | %d |%n",
                reason, n)));
        report.counts().forEach((k, v) -> t.append(String.format(Locale.ROOT, "| %s | %d |%n", k, v)));
        t.append(String.format(Locale.ROOT, "| violations | %d |%n%n", report.violations().size()));
        return t.toString();
    }

    private long nextSend;

    /** The time of the next send: {@code rate} per second, with no burst to catch up after an outage. */
    private synchronized long nextSlot() {
        long due = Math.max(nextSend, System.nanoTime());
        nextSend = due + (long) (1e9 / rate);
        return due;
    }

    private double seconds() {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void pause(long nanos) throws InterruptedException {
        if (nanos > 0) {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        }
    }
}
