package org.cxrtriage.launcher;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import org.cxrtriage.common.Settings;
import org.cxrtriage.ingest.FolderIngest;
import org.cxrtriage.ingest.FolderSource;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.CxrNeighbours;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.CxrScore;
import org.cxrtriage.schemas.Neighbour;
import org.cxrtriage.similarity.SimilarityService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The main job: runs every service, streams a folder of X-rays through them, prints each image's probability, call,
 * its 4 most similar prior cases and the alerts raised, then stops.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Stream a folder of X-rays through the whole pipeline and print the results.")
final class RunCommand implements Callable<Integer> {

    @Mixin
    ImageFolderOptions folder;

    @Option(names = "--limit", description = "Send at most N images, spread evenly over the folder (0 = all).",
            defaultValue = "${env:CXR_LIMIT:-0}")
    int limit;

    @Option(names = "--redis-prefix", description = "Redis key prefix for the case store (default: a fresh one per run, "
            + "so each run starts with an empty case history, even on a stack that earlier runs used).")
    String redisPrefix;

    @Option(names = "--stall-timeout", description = "Give up when no image finishes for this long (default: ${DEFAULT-VALUE}).",
            defaultValue = "PT3M")
    Duration stallTimeout;

    @Option(names = "--dashboard", description = "Also run the infection-control dashboard and print its address.")
    boolean dashboard;

    @Option(names = "--dashboard-linger", description = "With --dashboard: keep everything up this long after the run "
            + "to look at the dashboard (default: ${DEFAULT-VALUE}).", defaultValue = "PT0S")
    Duration dashboardLinger;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        Settings settings = Settings.fromEnv();
        String runId = "run-" + System.currentTimeMillis();
        boolean freshHistory = redisPrefix == null && settings.optional(SimilarityService.REDIS_KEY_PREFIX).isEmpty();
        settings = settings.with(SimilarityService.REDIS_KEY_PREFIX, redisPrefix != null ? redisPrefix
                : settings.string(SimilarityService.REDIS_KEY_PREFIX, "cxr:" + runId + ":"));
        // The consumer groups of this run's history: its own for a fresh history; named after a history carried on
        // (what an interrupted run of it left is its own); the usual ones for the services' default history.
        String groupSuffix = freshHistory ? runId
                : RunConsumerGroups.historySuffix(settings.string(SimilarityService.REDIS_KEY_PREFIX, ""));
        if (groupSuffix != null) {
            RunConsumerGroups.ForRun groups = RunConsumerGroups.name(settings, groupSuffix, dashboard);
            settings = groups.settings();
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                    org.cxrtriage.common.KafkaSettings.base(settings, "run-groups"))) {
                RunConsumerGroups.startAtEnd(admin, groups.named());
            }
        }
        if (freshHistory) {
            // An empty case history by choice, not a Redis that lost its data: without this mark the similarity
            // service would restore the cases and alerts of earlier runs on a stack that is still up.
            startEmptyCaseHistory(settings);
        }
        Optional<Path> manifestPath = folder.manifestPath();
        List<FolderSource.Item> items = spread(FolderSource.list(folder.images, manifestPath), limit);
        out.printf("CXR Triage Stream: %d image(s) from %s%s%n", items.size(), folder.images,
                manifestPath.map(m -> " (metadata: " + m + ")").orElse(""));

        long t0 = System.currentTimeMillis();
        try (LocalPipeline pipeline = new LocalPipeline(settings); ResultCollector results = new ResultCollector(settings)) {
            pipeline.start();
            String dashboardUrl = dashboard ? pipeline.startDashboard() : null;
            out.printf("services up in %.1f s: %s%n", (System.currentTimeMillis() - t0) / 1000.0,
                    pipeline.services().stream().map(s -> s.name()).toList());
            if (dashboardUrl != null) {
                out.printf("dashboard: %s%n", dashboardUrl);
            }
            long tIngest = System.currentTimeMillis();
            Progress progress = new Progress(items.size());
            AtomicInteger sent = new AtomicInteger();
            List<FolderIngest.Outcome> outcomes = new FolderIngest(pipeline.ingest()).send(items,
                    o -> progress.show("ingest", sent.incrementAndGet()));
            Map<String, FolderIngest.Outcome> byId = new LinkedHashMap<>();
            Map<String, String> fileById = new HashMap<>();
            for (FolderIngest.Outcome o : outcomes) {
                if (o.isAccepted()) {
                    byId.put(o.accepted().getImageId(), o);
                    fileById.put(o.accepted().getImageId(), o.item().file().getFileName().toString());
                }
            }
            Set<String> missing = results.await(byId.keySet(), stallTimeout, n -> progress.show("scored", n));
            results.awaitQuiet(Duration.ofSeconds(2), Duration.ofSeconds(15));
            progress.finish();
            double seconds = (System.currentTimeMillis() - tIngest) / 1000.0;
            print(out, outcomes, results, fileById);
            List<CxrAlert> alerts = results.openedAlertsFor(byId.keySet());
            out.printf("%nAlerts raised (%d, one per patient; %d updates by later positive images):%n", alerts.size(),
                    results.alertsFor(byId.keySet()).stream()
                            .filter(a -> a.getEvent() == org.cxrtriage.schemas.AlertEvent.UPDATED).count());
            for (CxrAlert a : alerts) {
                out.printf("  ALERT %s patient %s site %s image %s p=%.3f knnVote=%s rule: %s%n",
                        a.getAlertId().substring(0, 8), a.getPatientRef(), a.getSiteId(),
                        fileById.getOrDefault(a.getImageId(), a.getImageId()), a.getProbability(),
                        vote(a.getKnnVote()), a.getRule());
            }
            summary(out, outcomes, byId.keySet(), results, missing, seconds);
            if (dashboardUrl != null && !dashboardLinger.isZero()) {
                out.printf("dashboard stays open for %s: %s%n", dashboardLinger, dashboardUrl);
                Thread.sleep(dashboardLinger.toMillis());
            }
            boolean notStored = outcomes.stream().anyMatch(o -> !o.isAccepted() && o.rejection().httpStatus() >= 500);
            return missing.isEmpty() && !notStored ? 0 : 2;
        }
    }

    private static void startEmptyCaseHistory(Settings settings) {
        try (redis.clients.jedis.RedisClient client = redis.clients.jedis.RedisClient.create(java.net.URI.create(
                settings.string(org.cxrtriage.common.CommonKeys.REDIS_URL,
                        org.cxrtriage.common.CommonKeys.DEFAULT_REDIS_URL)))) {
            new org.cxrtriage.similarity.CaseStore(client, settings.string(SimilarityService.REDIS_KEY_PREFIX, ""))
                    .markIntact();
        }
    }

    private static void print(PrintStream out, List<FolderIngest.Outcome> outcomes, ResultCollector results,
                              Map<String, String> fileById) {
        out.println();
        int i = 0;
        for (FolderIngest.Outcome o : outcomes) {
            i++;
            String file = o.item().file().getFileName().toString();
            String truth = o.item().manifestRow().getOrDefault("label", "");
            String truthText = truth.isEmpty() ? "" : " truth=" + truth;
            if (!o.isAccepted()) {
                int status = o.rejection().httpStatus();
                out.printf("%5d %s  %s: %s (%s)%n", i, file, status == 503 ? "NOT STORED or not confirmed by the broker"
                                : status >= 500 ? "FAILED in ingest" : "REFUSED at ingest",
                        o.rejection().reasonCode(), o.rejection().getMessage());
                continue;
            }
            String id = o.accepted().getImageId();
            CxrRejected r = results.rejected.get(id);
            if (r != null) {
                out.printf("%5d %s  REJECTED at %s: %s (%s)%s%n", i, file, r.getStage(), r.getReasonCode(),
                        r.getMessage(), truthText);
                continue;
            }
            CxrScore s = results.scores.get(id);
            CxrNeighbours n = results.neighbours.get(id);
            if (s == null || n == null) {
                out.printf("%5d %s  NOT FINISHED%n", i, file);
                continue;
            }
            StringBuilder nb = new StringBuilder();
            for (Neighbour x : n.getNeighbours()) {
                nb.append(String.format(Locale.ROOT, " %s(d=%.3f,%s%s)",
                        shortName(fileById.getOrDefault(x.getImageId(), x.getImageId())), x.getDistance(),
                        x.getPositive() ? "+" : "-", x.getLabelSource().name().startsWith("C") ? ",confirmed" : ""));
            }
            out.printf(Locale.ROOT, "%5d %s  p=%.3f %s%s  kNN vote=%s  neighbours:%s%n", i, file, s.getProbability(),
                    s.getPositive() ? "POSITIVE" : "negative", truthText, vote(n.getKnnVote()),
                    nb.length() == 0 ? " (none yet)" : nb);
        }
    }

    private static void summary(PrintStream out, List<FolderIngest.Outcome> outcomes, Set<String> accepted,
                                ResultCollector results, Set<String> missing, double seconds) {
        long scored = accepted.stream().filter(results.scores::containsKey).count();
        long rejected = accepted.stream().filter(results.rejected::containsKey).count();
        long refused = outcomes.stream().filter(o -> !o.isAccepted() && o.rejection().httpStatus() < 500).count();
        long notStored = outcomes.stream().filter(o -> !o.isAccepted() && o.rejection().httpStatus() >= 500).count();
        long withFour = accepted.stream().map(results.neighbours::get)
                .filter(n -> n != null && n.getNeighbours().size() == n.getK()).count();
        int correct = 0;
        int labelled = 0;
        for (FolderIngest.Outcome o : outcomes) {
            String truth = o.item().manifestRow().getOrDefault("label", "");
            if (o.isAccepted() && !truth.isEmpty() && results.scores.containsKey(o.accepted().getImageId())) {
                labelled++;
                boolean positive = results.scores.get(o.accepted().getImageId()).getPositive();
                correct += positive == truth.equalsIgnoreCase("covid") ? 1 : 0;
            }
        }
        String model = results.scores.values().stream().findFirst()
                .map(s -> s.getModelName() + " " + s.getModelVersion()).orElse("-");
        out.printf("%nSummary: %d sent, %d refused at ingest, %s%d scored, %d rejected downstream, %d lost; "
                        + "%d with a full set of neighbours; %.1f s (%.2f images/s); model %s%n",
                outcomes.size(), refused, notStored == 0 ? "" : notStored + " NOT STORED or not confirmed (no send "
                        + "acknowledged by the broker within " + FolderIngest.RETRY_FOR.toMinutes() + " min), ", scored, rejected, missing.size(), withFour, seconds,
                accepted.size() / Math.max(seconds, 1e-3), model);
        if (labelled > 0) {
            out.printf("Agreement with manifest labels: %d/%d (%.1f%%)%s%n", correct, labelled,
                    100.0 * correct / labelled, model.contains("untrained")
                            ? " - the model is UNTRAINED, so this is chance level by design"
                            : " - not a test result when the folder holds the model's training images (see MODEL_CARD.md)");
        }
    }

    private static String vote(float v) {
        return Float.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String shortName(String name) {
        return name.length() <= 28 ? name : name.substring(0, 25) + "...";
    }

    /** At most {@code limit} items spread evenly, so a small run still covers every source in a sorted folder. */
    static List<FolderSource.Item> spread(List<FolderSource.Item> all, int limit) {
        if (limit <= 0 || limit >= all.size()) {
            return all;
        }
        List<FolderSource.Item> out = new ArrayList<>(limit);
        double step = all.size() / (double) limit;
        for (int i = 0; i < limit; i++) {
            out.add(all.get((int) Math.floor(i * step)));
        }
        return out;
    }
}
