package org.cxrtriage.launcher;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.cxrtriage.schemas.RetractionReason;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Withdraws images a site sent by mistake (under the wrong patient, the wrong image, a test exposure) from a running
 * deployment: one {@code DELETE /images/{imageId}} per image, as a site's system would send it. Ingest answers 202 once
 * the broker has the retraction; 503 (broker or Redis away) is retried until {@code --wait} has passed.
 */
@Command(name = "retract", mixinStandardHelpOptions = true,
        description = "Retract images from a running deployment: their cases leave the case store and every "
                + "similar-cases list from then on, and their patients' alerts lose them (an alert with none left is "
                + "withdrawn). The same X-ray can then be sent again, under the right patient.")
final class RetractCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "IMAGE_ID", description = "Image ids, as ingest answered them.")
    List<String> imageIds;

    @Option(names = "--reason", description = "Why: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
            defaultValue = "OTHER")
    RetractionReason reason;

    @Option(names = "--ingest-url", description = "Ingest service address (default: ${DEFAULT-VALUE}).",
            defaultValue = "${env:CXR_INGEST_URL:-http://127.0.0.1:8090}")
    URI ingestUrl;

    @Option(names = "--token", description = "API token of the images' site, or an all-sites one "
            + "(default: $CXR_API_TOKEN).", defaultValue = "${env:CXR_API_TOKEN}")
    String token;

    @Option(names = "--wait", description = "How long to keep asking while ingest answers 503 or cannot be reached "
            + "(default: ${DEFAULT-VALUE}).", defaultValue = "PT1M")
    Duration wait;

    private static final java.util.regex.Pattern ALREADY =
            java.util.regex.Pattern.compile("\"alreadyRetracted\"\\s*:\\s*true");

    /** What ingest answered for one image. */
    record Answer(int status, String body) {
    }

    @Override
    public Integer call() throws Exception {
        if (token == null || token.isBlank()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "an API token is needed: --token or CXR_API_TOKEN (the images' site's, or an all-sites one)");
        }
        PrintWriter out = spec.commandLine().getOut();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        int failed = 0;
        for (String id : imageIds) {
            Answer a = retract(http, id);
            String line = switch (a.status()) {
                case 202 -> ALREADY.matcher(a.body()).find() ? "already retracted" : "retracted";
                case 0 -> "not answered by " + ingestUrl + ": " + a.body();
                default -> "refused (" + a.status() + "): " + a.body();
            };
            out.printf("%s %s%n", id, line);
            failed += a.status() == 202 ? 0 : 1;
        }
        out.flush();
        return failed == 0 ? 0 : 2;
    }

    /** One image's retraction, asked again after 503 (honouring Retry-After) or no answer, for up to --wait. */
    private Answer retract(HttpClient http, String imageId) throws InterruptedException {
        URI uri = ingestUrl.resolve("/images/" + URLEncoder.encode(imageId, StandardCharsets.UTF_8).replace("+", "%20")
                + "?reason=" + reason.name());
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Answer a;
            long retryAfterS = 1;
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                        .header("Authorization", "Bearer " + token).DELETE().build(),
                        HttpResponse.BodyHandlers.ofString());
                a = new Answer(r.statusCode(), r.body());
                retryAfterS = r.headers().firstValueAsLong("Retry-After").orElse(1);
            } catch (IOException e) {
                a = new Answer(0, e.toString());
            }
            boolean retry = a.status() == 503 || a.status() == 0;
            long pause = Math.min(Math.max(1, retryAfterS), 10) * 1_000_000_000L;
            if (!retry || System.nanoTime() + pause > deadline) {
                return a;
            }
            Thread.sleep(pause / 1_000_000);
        }
    }
}
