package org.cxrtriage.launcher;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.cxrtriage.ingest.FolderIngest;
import org.cxrtriage.ingest.FolderSource;

/**
 * Sends X-rays to an ingest service over HTTP the way a modality does: one POST per image, retrying while ingest is
 * down or asks to retry (503). Used by the benchmark and the fault suite, which run the services as separate JVMs.
 */
final class IngestUploader {

    private static final Pattern JSON_IMAGE_ID = Pattern.compile("\"imageId\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern JSON_ERROR = Pattern.compile("\"error\"\\s*:\\s*\"([^\"]+)\"");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final URI ingest;
    private final String token;
    private final AtomicInteger alreadyStored = new AtomicInteger();

    IngestUploader(int port, String token) {
        this(URI.create("http://127.0.0.1:" + port), token);
    }

    /** @param ingest the ingest service's base address, e.g. http://127.0.0.1:8090 */
    IngestUploader(URI ingest, String token) {
        String base = ingest.toString();
        this.ingest = URI.create(base.endsWith("/") ? base : base + "/");
        this.token = token;
    }

    /**
     * Sends one image; returns the accepted image id (the first one's id when ingest says the bytes were already
     * stored), or null when the image was refused (the reason counted in {@code refusals}).
     */
    String upload(FolderSource.Item item, Map<String, Integer> refusals) throws IOException, InterruptedException {
        byte[] bytes = Files.readAllBytes(item.file());
        var m = item.metadata();
        String query = "patientId=" + enc(m.patientId()) + "&studyId=" + enc(m.studyId()) + "&siteId="
                + enc(m.siteId()) + "&viewPosition=" + enc(m.viewPosition());
        HttpRequest request = HttpRequest.newBuilder(ingest.resolve("images?" + query))
                .header("Authorization", "Bearer " + token).header("Content-Type", contentType(item.file()))
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build();
        long giveUp = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        String unacknowledged = null; // the id of this upload's earlier try that the broker did not acknowledge
        while (true) {
            try {
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                Matcher named = JSON_IMAGE_ID.matcher(r.body());
                if (r.statusCode() == 503 && named.find()) {
                    unacknowledged = named.group(1);
                }
                if (r.statusCode() == 409 && !(named.find(0) && named.group(1).equals(unacknowledged))) {
                    alreadyStored.incrementAndGet(); // not this upload's own earlier try, stored after all
                }
                if (r.statusCode() == 202 || r.statusCode() == 409) {
                    Matcher id = JSON_IMAGE_ID.matcher(r.body());
                    if (!id.find()) {
                        throw new IllegalStateException("no imageId in " + r.body());
                    }
                    return id.group(1);
                }
                if (r.statusCode() == 401 || r.statusCode() == 403) { // the token, not the image: said as such
                    refusals.merge("HTTP " + r.statusCode(), 1, Integer::sum);
                    return null;
                }
                if (r.statusCode() < 500) {
                    Matcher reason = JSON_ERROR.matcher(r.body());
                    refusals.merge(reason.find() ? reason.group(1) : "HTTP " + r.statusCode(), 1, Integer::sum);
                    return null;
                }
            } catch (IOException e) {
                // Ingest is down (killed): the sender retries, as a modality would.
            }
            if (System.nanoTime() > giveUp) {
                throw new IllegalStateException("ingest did not take " + item.file() + " within 5 minutes");
            }
            Thread.sleep(1000);
        }
    }

    /** How many uploads ingest answered 409: the same bytes were stored before (their first image id returned). */
    int alreadyStored() {
        return alreadyStored.get();
    }

    private static String enc(String s) {
        return s == null ? "" : URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String contentType(Path file) {
        String known = FolderIngest.contentTypeOf(file);
        if (known != null) {
            return known;
        }
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".dcm") ? "application/dicom"
                : "application/octet-stream";
    }
}
