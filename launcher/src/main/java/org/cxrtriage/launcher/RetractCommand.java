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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Withdraws images a site sent by mistake (under the wrong patient, the wrong image, a test exposure) from a running
 * deployment: one {@code DELETE /images/{imageId}} per image, as a site's system would send it. Ingest answers 202 once
 * the broker has the retraction; 503 (broker or Redis away), a proxy's 502/504 and no answer are asked again until
 * {@code --wait} has passed.
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

    @Mixin
    IngestOptions ingest;

    @Option(names = "--wait", description = "How long in all to keep asking while ingest (or a proxy in front of it) "
            + "answers 502, 503 or 504, or cannot be reached (default: ${DEFAULT-VALUE}).", defaultValue = "PT1M")
    Duration wait;

    private static final java.util.regex.Pattern ALREADY =
            java.util.regex.Pattern.compile("\"alreadyRetracted\"\\s*:\\s*true");

    /** What ingest answered for one image. */
    record Answer(int status, String body) {
    }

    @Override
    public Integer call() throws Exception {
        String token = ingest.requireToken(spec);
        PrintWriter out = spec.commandLine().getOut();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        URI images = ingest.base();
        long deadline = System.nanoTime() + wait.toNanos();
        int failed = 0;
        for (int i = 0; i < imageIds.size(); i++) {
            String id = imageIds.get(i);
            Answer a = retract(http, token, images.resolve("images/" + URLEncoder.encode(id, StandardCharsets.UTF_8)
                    .replace("+", "%20") + "?reason=" + reason.name()), deadline);
            String line = switch (a.status()) {
                case 202 -> ALREADY.matcher(a.body()).find() ? "already retracted" : "retracted";
                case 0 -> "not answered by " + ingest.ingestUrl + ": " + a.body();
                default -> "refused (" + a.status() + "): " + a.body();
            };
            out.printf("%s %s%n", id, line);
            if (a.status() != 202) {
                failed++;
            }
            if (a.status() == 401) { // the token: every other image would be refused the same way
                for (String left : imageIds.subList(i + 1, imageIds.size())) {
                    out.printf("%s not tried (the token was refused)%n", left);
                    failed++;
                }
                break;
            }
        }
        out.flush();
        return failed == 0 ? 0 : 2;
    }

    /** Answers after which the request is made again: ingest or a proxy in front of it away for a moment. */
    private static boolean worthAskingAgain(int status) {
        return status == 0 || status == 502 || status == 503 || status == 504;
    }

    /**
     * One image's retraction, asked again (after Retry-After, or 1 s; at most 10 s) while ingest is away, until the
     * command's deadline. Asking again is safe: a retraction already made answers 202 with alreadyRetracted.
     */
    private static Answer retract(HttpClient http, String token, URI uri, long deadline) throws InterruptedException {
        while (true) {
            Answer a;
            long pauseS = 1;
            try {
                // Longer than ingest may wait for the broker (its delivery timeout and 5 s), so a slow answer is not
                // taken for none while the retraction still goes through.
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                        .header("Authorization", "Bearer " + token).DELETE().build(),
                        HttpResponse.BodyHandlers.ofString());
                a = new Answer(r.statusCode(), r.body());
                pauseS = retryAfterSeconds(r.headers().firstValue("Retry-After").orElse(null));
            } catch (IOException e) {
                a = new Answer(0, e.toString());
            }
            long left = deadline - System.nanoTime();
            if (!worthAskingAgain(a.status()) || left <= 0) {
                return a;
            }
            Thread.sleep(Math.min(Math.min(Math.max(1, pauseS), 10) * 1000, Math.max(1, left / 1_000_000)));
        }
    }

    /** Retry-After in seconds: a number, or an HTTP date (a proxy's); 1 when absent or unreadable. */
    static long retryAfterSeconds(String value) {
        if (value == null || value.isBlank()) {
            return 1;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            try {
                java.time.ZonedDateTime at = java.time.ZonedDateTime.parse(value.trim(),
                        java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
                return Math.max(1, Duration.between(java.time.Instant.now(), at.toInstant()).toSeconds());
            } catch (java.time.format.DateTimeParseException unreadable) {
                return 1;
            }
        }
    }
}
