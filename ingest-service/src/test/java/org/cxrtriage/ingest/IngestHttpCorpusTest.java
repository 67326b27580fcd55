package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.ApiTokens;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.Pseudonymiser;
import org.cxrtriage.common.Settings;
import org.cxrtriage.imaging.BadInputCorpus;
import org.cxrtriage.imaging.BadInputCorpus.Entry;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.ImageReceived;
import org.cxrtriage.schemas.Topic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input corpus over real HTTP ({@code POST /images} on Javalin/Jetty), with a {@link MockProducer} in place of
 * the broker: every refusal happens before anything is produced, and accepted images are "acknowledged" at once.
 */
@org.junit.jupiter.api.Timeout(value = 60, unit = java.util.concurrent.TimeUnit.SECONDS)
class IngestHttpCorpusTest {

    private static final String TOKEN = "corpus-test-token-0123456789";
    private static final String SITE_A_TOKEN = "site-a-only-token-0123456789";
    private static IngestService service;
    private static MockProducer<String, SpecificRecord> producer;
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final java.time.Duration TIMEOUT = java.time.Duration.ofSeconds(30);
    /** When set, the value serializer throws it (as Apicurio's does when the registry does not answer). */
    private static final java.util.concurrent.atomic.AtomicReference<RuntimeException> SERIALIZER_FAILURE =
            new java.util.concurrent.atomic.AtomicReference<>();

    @BeforeAll
    static void start() {
        Settings settings = Settings.of(Map.of(CommonKeys.HTTP_HOST, "127.0.0.1", CommonKeys.HTTP_PORT, "0",
                IngestService.DEDUP, "false", IngestService.MAX_IMAGE_BYTES, String.valueOf(BadInputCorpus.LIMITS.maxBytes()),
                ApiTokens.TOKENS, TOKEN + "=*," + SITE_A_TOKEN + "=site-a", Pseudonymiser.KEY_SETTING, "corpus-key-0123456789"));
        producer = new MockProducer<>(true, null, new StringSerializer(), (topic, value) -> {
            RuntimeException failure = SERIALIZER_FAILURE.get();
            if (failure != null) {
                throw failure;
            }
            return new byte[0];
        });
        service = new IngestService(settings);
        service.startHttp(producer);
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @BeforeEach
    void clearHistory() {
        producer.clear();
        SERIALIZER_FAILURE.set(null);
    }

    @org.junit.jupiter.api.Test
    void anImageTheRegistryCannotSerializeForIsA503ToRetryAndLaterAccepted() throws Exception {
        Entry image = entries().stream().filter(Entry::accepted).findFirst().orElseThrow();
        SERIALIZER_FAILURE.set(new org.apache.kafka.common.errors.SerializationException("Error serializing Avro",
                new org.cxrtriage.schemas.RegistryUnavailableException("schema registry call failed",
                        new java.util.concurrent.TimeoutException("registry request timed out"))));

        HttpResponse<String> refused = postRaw(image, TOKEN);

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(error(refused)).isEqualTo("REGISTRY_UNAVAILABLE");
        assertThat(producer.history()).as("nothing stored, no refusal audited: the image is fine").isEmpty();

        SERIALIZER_FAILURE.set(null);
        HttpResponse<String> retried = postRaw(image, TOKEN);
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(202);
    }

    static List<Entry> entries() {
        return BadInputCorpus.entries();
    }

    private static URI uri() {
        return URI.create("http://127.0.0.1:" + service.httpPort() + "/images");
    }

    private static HttpResponse<String> postRaw(Entry e, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri()).timeout(TIMEOUT).header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofByteArray(e.bytes()));
        if (e.contentType() != null) {
            b.header("Content-Type", e.contentType());
        }
        BadInputCorpus.Meta m = e.meta();
        Map<String, String> fields = new java.util.LinkedHashMap<>();
        fields.put("patientId", m.patientId());
        fields.put("studyId", m.studyId());
        fields.put("siteId", m.siteId());
        fields.put("deviceId", m.deviceId());
        fields.put("viewPosition", m.viewPosition());
        fields.put("acquisitionTime", m.acquisitionTime());
        StringBuilder query = new StringBuilder();
        fields.forEach((k, v) -> {
            if (v != null) {
                query.append(query.isEmpty() ? "?" : "&").append(k).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
            }
        });
        return HTTP.send(b.uri(URI.create(uri() + query.toString())).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String error(HttpResponse<String> r) {
        Matcher m = Pattern.compile("\"error\"\\s*:\\s*\"([A-Z_]+)\"").matcher(r.body());
        return m.find() ? m.group(1) : null;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entries")
    void everyEntryGetsItsStatusAndReasonOverHttp(Entry e) throws Exception {
        HttpResponse<String> r = postRaw(e, TOKEN);

        assertThat(r.statusCode()).as(e.why() + ": " + r.body()).isEqualTo(e.httpStatus());
        List<ProducerRecord<String, SpecificRecord>> sent = producer.history();
        if (e.accepted()) {
            assertThat(r.body()).contains("imageId").contains("patientRef");
            assertThat(sent).singleElement().satisfies(rec -> {
                assertThat(rec.topic()).isEqualTo(Topic.IMAGES.name());
                assertThat(rec.value()).isInstanceOf(ImageReceived.class);
            });
        } else {
            assertThat(error(r)).as(r.body()).isEqualTo(e.admission());
            // Nothing reaches the images topic; the refusal is audited on cxr.rejected.
            assertThat(sent).singleElement().satisfies(rec -> {
                assertThat(rec.topic()).isEqualTo(Topic.REJECTED.name());
                assertThat(((CxrRejected) rec.value()).getReasonCode()).isEqualTo(e.admission());
            });
        }
    }

    /**
     * Sends a request the server refuses without reading its whole body. The server answers and closes the connection
     * while the client may still be sending, so the client sometimes sees only the close (an IOException): then the
     * refusal is checked through its audit event alone. (Expect: 100-continue would avoid the race, but the JDK 17
     * client hangs when the answer to it is a final status.)
     */
    private static java.util.Optional<HttpResponse<String>> sendRefusedBody(HttpRequest request) throws Exception {
        // A client of its own, so a fresh connection: the server closes the connection of a refused body it did not
        // read, and a shared client could hand the next request that dead pooled connection.
        HttpClient fresh = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try {
            return java.util.Optional.of(fresh.send(request, HttpResponse.BodyHandlers.ofString()));
        } catch (java.io.IOException closedWhileSending) {
            return java.util.Optional.empty();
        }
    }

    /**
     * Sends an oversized body and waits until the server has audited it as the {@code count}th rejection. When the
     * client failed before any answer and no event came, the request may never have reached the server (a connection
     * lost in the client, as once on CI), so it is sent once more; the server must still audit it.
     */
    private static void refuseAndAwaitAudit(HttpRequest request, int count) throws Exception {
        for (int attempt = 1; attempt <= 2; attempt++) {
            java.util.Optional<HttpResponse<String>> answer = sendRefusedBody(request);
            answer.ifPresent(r -> {
                assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
                assertThat(error(r)).as(r.body()).isEqualTo("TOO_MANY_BYTES");
            });
            if (awaitRejections(count, 20) || answer.isPresent()) {
                return;
            }
        }
    }

    /** True once the producer holds {@code count} records; false after {@code seconds}. */
    private static boolean awaitRejections(int count, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (producer.history().size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return producer.history().size() >= count;
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 120, unit = java.util.concurrent.TimeUnit.SECONDS)
    void aBodyLargerThanTheRequestLimitIsRefusedWithAReason() throws Exception {
        byte[] huge = new byte[(int) BadInputCorpus.LIMITS.maxBytes() + 128 * 1024];
        // With a Content-Length: refused before the body is read.
        refuseAndAwaitAudit(HttpRequest.newBuilder(uri()).timeout(TIMEOUT).header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "image/png").header("X-patientId", "p").header("X-studyId", "s")
                .header("X-siteId", "site-a").header("X-viewPosition", "PA")
                .POST(HttpRequest.BodyPublishers.ofByteArray(huge)).build(), 1);
        // Chunked: no Content-Length to check up front, so the limit hits while the body is read.
        refuseAndAwaitAudit(HttpRequest.newBuilder(uri()).timeout(TIMEOUT).header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "image/png").header("X-studyId", "s").header("X-siteId", "site-a")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(huge))).build(), 2);
        assertThat(producer.history()).noneMatch(rec -> rec.topic().equals(Topic.IMAGES.name()));
        assertThat(producer.history()).extracting(rec -> ((CxrRejected) rec.value()).getReasonCode())
                .containsExactly("TOO_MANY_BYTES", "TOO_MANY_BYTES");
    }

    @Test
    void aBrokenMultipartEnvelopeIsAMalformedRequestNotAServerError() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri()).timeout(TIMEOUT)
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "multipart/form-data; boundary=xyz")
                .POST(HttpRequest.BodyPublishers.ofString("--xyz\r\nContent-Disposition: form-data; name=\"image\"; "
                        + "filename=\"a.png\"\r\n\r\n\u0089PNG never closed")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(error(r)).as(r.body()).isEqualTo("MALFORMED_REQUEST");
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 120, unit = java.util.concurrent.TimeUnit.SECONDS)
    void aMultipartFileLargerThanTheRequestLimitIsRefusedWithAReason() throws Exception {
        byte[] huge = new byte[(int) BadInputCorpus.LIMITS.maxBytes() + 128 * 1024];
        refuseAndAwaitAudit(multipart(FIELDS, "image", huge, "image/png"), 1);
        assertThat(producer.history()).singleElement()
                .satisfies(rec -> assertThat(((CxrRejected) rec.value()).getReasonCode()).isEqualTo("TOO_MANY_BYTES"));
    }

    private static HttpRequest multipart(Map<String, String> fields, String fileField, byte[] file, String fileType) {
        String boundary = "----corpus-boundary-7d3f";
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey() + "\"\r\n\r\n"
                    + f.getValue() + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        if (fileField != null) {
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + fileField
                    + "\"; filename=\"upload.bin\"\r\nContent-Type: " + fileType + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            body.writeBytes(file);
            body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return HttpRequest.newBuilder(uri()).timeout(TIMEOUT).header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build();
    }

    private static HttpResponse<String> postMultipart(Map<String, String> fields, String fileField, byte[] file,
                                                      String fileType) throws Exception {
        return HTTP.send(multipart(fields, fileField, file, fileType), HttpResponse.BodyHandlers.ofString());
    }

    private static final Map<String, String> FIELDS = Map.of("patientId", "MRN-1", "studyId", "s-1", "siteId", "site-a",
            "viewPosition", "PA");

    @Test
    void multipartUploadsPublishDeidentifiedDicom() throws Exception {
        Entry dicom = BadInputCorpus.entry("dicom-12-in-16");
        HttpResponse<String> r = postMultipart(FIELDS, "image", dicom.bytes(), "application/dicom");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        ImageReceived event = (ImageReceived) producer.history().get(0).value();
        String published = new String(CorpusAdmissionTest.bytesOf(event), StandardCharsets.ISO_8859_1);
        assertThat(CorpusAdmissionTest.DICOM_IDENTIFIERS).allSatisfy(s -> assertThat(published).doesNotContain(s));
    }

    @Test
    void multipartWithoutTheImagePartIsAMissingField() throws Exception {
        HttpResponse<String> r = postMultipart(FIELDS, null, null, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(error(r)).isEqualTo("MISSING_FIELD");
        HttpResponse<String> wrongName = postMultipart(FIELDS, "file", BadInputCorpus.goodChestPng(), "image/png");
        assertThat(wrongName.statusCode()).isEqualTo(400);
        assertThat(error(wrongName)).isEqualTo("MISSING_FIELD");
    }

    @Test
    void aTokenMayOnlySubmitForItsOwnSite() throws Exception {
        Entry png = BadInputCorpus.entry("png-chest");
        HttpResponse<String> own = postRaw(png, SITE_A_TOKEN);
        assertThat(own.statusCode()).isEqualTo(202);
        Entry otherSite = new Entry("other-site", "site-b with a site-a token", png.bytes(), "image/png",
                new BadInputCorpus.Meta("MRN-1", "s", "site-b", null, "PA", null), "FORBIDDEN_SITE", 403, null, "TENSOR");
        HttpResponse<String> other = postRaw(otherSite, SITE_A_TOKEN);
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(error(other)).isEqualTo("FORBIDDEN_SITE");
        HttpResponse<String> none = postRaw(png, "not-a-valid-token-at-all-000");
        assertThat(none.statusCode()).isEqualTo(401);
    }
}
