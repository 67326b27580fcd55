package org.cxrtriage.launcher;

import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.cxrtriage.ingest.FolderSource;
import org.cxrtriage.ingest.IngestMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Sends a folder of X-rays to a deployment that is already running (docker compose, services on other hosts) over
 * HTTP, one POST per image as a modality sends them, retrying while ingest is away; with {@code --similarity-url} it
 * then waits until every accepted image is a case in the similarity service's index. Over HTTP an image the stream
 * rejected (no lungs found, say) cannot be told from one still on its way: it counts as not indexed.
 */
@Command(name = "send", mixinStandardHelpOptions = true,
        description = "Send a folder of X-rays to a running ingest service over HTTP; optionally wait until each "
                + "accepted image is indexed as a case by the similarity service.")
final class SendCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ImageFolderOptions folder;

    @Option(names = "--limit", description = "Send at most N images, spread evenly over the folder (0 = all).",
            defaultValue = "0")
    int limit;

    @Mixin
    IngestOptions ingest;

    @Option(names = "--similarity-url", description = "Similarity service address (e.g. http://127.0.0.1:8093); when "
            + "given, wait until every accepted image is a case there. Default: $CXR_SIMILARITY_URL, else no wait.",
            defaultValue = "${env:CXR_SIMILARITY_URL}")
    URI similarityUrl;

    @Option(names = "--site", description = "Send every image for this site instead of the manifest's source column "
            + "(a site token sends only for its own site).")
    String site;

    @Option(names = "--wait", description = "How long to wait for the images to be indexed "
            + "(default: ${DEFAULT-VALUE}).", defaultValue = "PT10M")
    Duration wait;

    @Override
    public Integer call() throws Exception {
        String token = ingest.requireToken(spec);
        PrintWriter out = spec.commandLine().getOut();
        List<FolderSource.Item> items = RunCommand.spread(folder.items(), limit).stream().map(this::forSite).toList();
        out.printf("sending %d image(s) from %s to %s%n", items.size(), folder.images, ingest.ingestUrl);

        IngestUploader uploader = new IngestUploader(ingest.base(), token);
        Map<String, Integer> refusals = new TreeMap<>();
        Set<String> accepted = new LinkedHashSet<>();
        Progress progress = new Progress(items.size());
        long start = System.nanoTime();
        int sent = 0;
        for (FolderSource.Item item : items) {
            String id = uploader.upload(item, refusals);
            if (id != null) {
                accepted.add(id);
            }
            progress.show("sent", ++sent);
            if (refusals.containsKey("HTTP 401") || refusals.containsKey("HTTP 403")) {
                progress.finish();
                out.printf("ingest refused the token (%s): check --token against the deployment's API_TOKENS, and "
                        + "--site for a site token%n", refusals.containsKey("HTTP 401") ? "401" : "403 for this site");
                return 2;
            }
        }
        progress.finish();
        out.printf(Locale.ROOT, "sent %d in %.1f s: %d accepted (%d of them already stored: 409 with the first copy's "
                + "id), %d refused%s%n", items.size(), seconds(start), accepted.size(), uploader.alreadyStored(),
                refusals.values().stream().mapToInt(Integer::intValue).sum(), refusals.isEmpty() ? "" : " " + refusals);
        if (accepted.isEmpty() && !items.isEmpty()) {
            out.println("ingest accepted none of the images");
            return 1;
        }
        if (similarityUrl == null) {
            return 0;
        }
        Set<String> missing = awaitIndexed(accepted);
        out.printf(Locale.ROOT, "indexed as cases: %d of %d accepted, %.1f s after the first upload%n",
                accepted.size() - missing.size(), accepted.size(), seconds(start));
        if (!missing.isEmpty()) {
            out.printf("not indexed within %s (rejected by the stream, or lost): %s%n", wait,
                    missing.stream().limit(10).toList());
            return 1;
        }
        return 0;
    }

    private FolderSource.Item forSite(FolderSource.Item item) {
        if (site == null) {
            return item;
        }
        IngestMetadata m = item.metadata();
        return new FolderSource.Item(item.file(), new IngestMetadata(m.patientId(), m.studyId(), site,
                m.deviceId(), m.viewPosition(), m.acquisitionTime()), item.manifestRow());
    }

    /** Asks the similarity service for each image's cases until it has them all; returns those it never had. */
    private Set<String> awaitIndexed(Set<String> accepted) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
        String base = similarityUrl.toString().replaceFirst("/+$", "");
        Set<String> pending = new LinkedHashSet<>(accepted);
        Progress progress = new Progress(accepted.size());
        long deadline = System.nanoTime() + wait.toNanos();
        while (!pending.isEmpty() && System.nanoTime() < deadline) {
            for (String id : new ArrayList<>(pending)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                if (isIndexed(http, base, id, Duration.ofNanos(Math.min(left, Duration.ofSeconds(10).toNanos())))) {
                    pending.remove(id);
                }
            }
            progress.show("indexed", accepted.size() - pending.size());
            if (!pending.isEmpty()) {
                Thread.sleep(1000);
            }
        }
        progress.finish();
        return pending;
    }

    private boolean isIndexed(HttpClient http, String base, String imageId, Duration timeout)
            throws InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/cases/" + imageId + "/similar?limit=1"))
                .header("Authorization", "Bearer " + ingest.token).timeout(timeout).GET().build();
        try {
            int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status == 401 || status == 403) {
                throw new IllegalStateException("the similarity service refused the token (" + status + ")");
            }
            return status == 200;
        } catch (java.io.IOException e) {
            return false; // the service is away for a moment: asked again on the next round
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
