package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.cxrtriage.common.Service;
import org.cxrtriage.common.Settings;
import org.cxrtriage.ingest.FolderIngest;
import org.cxrtriage.ingest.FolderSource;
import org.cxrtriage.ingest.IngestMetadata;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.CxrNeighbours;
import org.cxrtriage.schemas.Neighbour;
import org.cxrtriage.similarity.SimilarityService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real X-rays through the real broker, registry and Redis (the stack bin/test.sh starts): every accepted image ends
 * up scored or rejected, neighbours come back, and positive patients alert exactly once.
 */
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PipelineEndToEndTest {

    private static final int IMAGES = 36;
    private static final String ADMIN_TOKEN = "e2e-admin-token-" + UUID.randomUUID();
    private static final String SITE_TOKEN = "e2e-site-token-" + UUID.randomUUID();

    private Path tempDir;

    private LocalPipeline pipeline;
    private ResultCollector results;
    private final Map<String, FolderSource.Item> sentById = new LinkedHashMap<>();
    private final List<FolderIngest.Outcome> outcomes = new ArrayList<>();
    private Set<String> missing;
    private final java.io.StringWriter logs = new java.io.StringWriter();

    @BeforeAll
    void runPipeline(@TempDir Path dir) throws Exception {
        tempDir = dir;
        Path data = TestStack.dataDir();
        Assumptions.assumeTrue(Files.isRegularFile(data.resolve("manifest.csv")), "shared data set not found at " + data);
        // Every scored image is alert-eligible, so the once-per-patient rule is exercised on every patient.
        Settings settings = TestStack.isolatedSettings(tempDir).with(Map.of(SimilarityService.ALERT_THRESHOLD, "0.0",
                org.cxrtriage.common.ApiTokens.TOKENS, ADMIN_TOKEN + "=*," + SITE_TOKEN + "=http-site"));
        List<FolderSource.Item> all = FolderSource.list(data.resolve("images"),
                FolderSource.findManifest(data.resolve("images")));
        List<FolderSource.Item> chosen = pickWithRepeatPatients(all, IMAGES);

        // Broken inputs beside the real ones: a truncated X-ray and a lateral view.
        byte[] real = Files.readAllBytes(chosen.get(0).file());
        Path truncated = tempDir.resolve("truncated.png");
        Files.write(truncated, Arrays.copyOf(real, real.length / 3));
        List<FolderSource.Item> items = new ArrayList<>(chosen);
        items.add(new FolderSource.Item(truncated, new IngestMetadata("bad-1", "bad-study-1", "test-site", null,
                "PA", null), Map.of()));
        Path lateral = tempDir.resolve("lateral.png");
        Files.write(lateral, real);
        items.add(new FolderSource.Item(lateral, new IngestMetadata("bad-2", "bad-study-2", "test-site", null,
                "LL", null), Map.of()));

        captureLogs();
        pipeline = new LocalPipeline(settings);
        pipeline.start();
        results = new ResultCollector(settings);
        outcomes.addAll(new FolderIngest(pipeline.ingest()).send(items, o -> { }));
        for (FolderIngest.Outcome o : outcomes) {
            if (o.isAccepted()) {
                sentById.put(o.accepted().getImageId(), o.item());
            }
        }
        missing = results.await(sentById.keySet(), Duration.ofMinutes(3), n -> { });
        results.awaitQuiet(Duration.ofSeconds(3), Duration.ofSeconds(30));
    }

    @AfterAll
    void stop() {
        if (results != null) {
            results.close();
        }
        if (pipeline != null) {
            pipeline.close();
        }
    }

    @Test
    void everyAcceptedImageIsScoredOrRejectedAndNothingIsLost() {
        assertThat(sentById).hasSize(IMAGES);
        assertThat(missing).as("images accepted but never scored nor rejected").isEmpty();
        long scored = sentById.keySet().stream().filter(results.scores::containsKey).count();
        assertThat(scored).as("real frontal X-rays are scored; rejected: %s", sentById.keySet().stream()
                .map(results.rejected::get).filter(r -> r != null).map(r -> r.getReasonCode() + ": " + r.getMessage())
                .toList()).isEqualTo(IMAGES);
        sentById.keySet().stream().filter(results.scores::containsKey).forEach(id -> {
            assertThat(results.scores.get(id).getEmbedding()).hasSize(128);
            assertThat(results.scores.get(id).getProbability()).isBetween(0f, 1f);
        });
    }

    @Test
    void brokenInputsAreRefusedAtTheDoorWithAReason() {
        Map<String, String> refused = outcomes.stream().filter(o -> !o.isAccepted())
                .collect(Collectors.toMap(o -> o.item().file().getFileName().toString(),
                        o -> o.rejection().reasonCode()));
        assertThat(refused).containsEntry("truncated.png", "TRUNCATED_OR_CORRUPT")
                .containsEntry("lateral.png", "LATERAL_VIEW");
    }

    @Test
    void neighboursAreOtherPatientsPriorCases() {
        List<CxrNeighbours> all = sentById.keySet().stream().map(results.neighbours::get)
                .filter(n -> n != null).toList();
        long full = all.stream().filter(n -> n.getNeighbours().size() == 4).count();
        // Only the first few images of a fresh case store can have fewer than 4 prior cases of other patients.
        assertThat(full).isGreaterThanOrEqualTo(all.size() - 6L);
        for (CxrNeighbours n : all) {
            for (Neighbour x : n.getNeighbours()) {
                assertThat(x.getPatientRef()).isNotEqualTo(n.getPatientRef());
                assertThat(x.getImageId()).isNotEqualTo(n.getImageId());
            }
            List<Float> d = n.getNeighbours().stream().map(Neighbour::getDistance).toList();
            assertThat(d).isSorted();
            if (!n.getNeighbours().isEmpty()) {
                assertThat(n.getKnnVote()).isBetween(0f, 1f);
            }
        }
    }

    @Test
    void anUploadedImageIsScoredLikeTheStreamAndFindsItsStoredTwin() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String id = sentById.keySet().stream().filter(results.scores::containsKey).findFirst().orElseThrow();
        byte[] bytes = java.nio.file.Files.readAllBytes(sentById.get(id).file());
        URI uri = URI.create("http://127.0.0.1:" + pipeline.similarity().httpPort() + "/similar?limit=3");
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + ADMIN_TOKEN)
                .header("Content-Type", "image/png").POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        com.fasterxml.jackson.databind.JsonNode body = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
        // Same preprocessing, same model: the stored copy is the nearest case, at distance ~0, with the same score.
        assertThat(body.get("cases")).hasSize(3);
        assertThat(body.get("cases").get(0).get("imageId").asText()).isEqualTo(id);
        assertThat(body.get("cases").get(0).get("distance").asDouble()).isLessThan(1e-3);
        assertThat(body.get("probability").floatValue()).isCloseTo(results.scores.get(id).getProbability(),
                org.assertj.core.api.Assertions.within(1e-4f));
        HttpResponse<String> text = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + ADMIN_TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("not an image")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(text.statusCode()).isEqualTo(400);
        assertThat(text.body()).contains("NOT_AN_IMAGE");
        // A small body: the service answers 401 without reading it and closes the connection, so a client still
        // writing a large image gets a broken pipe instead of the answer (seen in CI with a 1 MB X-ray).
        assertThat(http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).as("no token").isEqualTo(401);
    }

    @Test
    void similarCasesOfAStoredImageAreServedOverHttpWithPaging() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + pipeline.similarity().httpPort() + "/cases/";
        String id = sentById.keySet().stream().filter(results.scores::containsKey).reduce((a, b) -> b).orElseThrow();
        HttpResponse<String> page1 = http.send(authorised(base + id + "/similar?limit=2", ADMIN_TOKEN),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> page2 = http.send(authorised(base + id + "/similar?limit=2&offset=2", ADMIN_TOKEN),
                HttpResponse.BodyHandlers.ofString());
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + id + "/similar")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).as("no token").isEqualTo(401);
        assertThat(http.send(authorised(base + id + "/similar", SITE_TOKEN), HttpResponse.BodyHandlers.ofString())
                .statusCode()).as("another site's token").isEqualTo(403);
        assertThat(page1.statusCode()).isEqualTo(200);
        assertThat(page2.statusCode()).isEqualTo(200);
        HttpResponse<String> hugeOffset = http.send(authorised(base + id + "/similar?offset=1000000000", ADMIN_TOKEN),
                HttpResponse.BodyHandlers.ofString());
        assertThat(hugeOffset.statusCode()).as(hugeOffset.body()).isEqualTo(400);
        assertThat(hugeOffset.body()).contains("BAD_PAGE");
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        List<String> first = new ArrayList<>();
        json.readTree(page1.body()).get("cases").forEach(c -> first.add(c.get("imageId").asText()));
        List<String> second = new ArrayList<>();
        json.readTree(page2.body()).get("cases").forEach(c -> second.add(c.get("imageId").asText()));
        assertThat(first).hasSize(2).doesNotContainAnyElementsOf(second);
        assertThat(second).hasSize(2);
        assertThat(json.readTree(page1.body()).get("cases").get(0).get("distance").asDouble())
                .isLessThanOrEqualTo(json.readTree(page2.body()).get("cases").get(0).get("distance").asDouble());
        HttpResponse<String> unknown = http.send(authorised(base + "no-such-image/similar", ADMIN_TOKEN),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(404);
    }

    @Test
    void positivePatientsAlertExactlyOnce() {
        List<CxrAlert> alerts = results.openedAlertsFor(sentById.keySet());
        Map<String, Long> perPatient = alerts.stream()
                .collect(Collectors.groupingBy(CxrAlert::getPatientRef, Collectors.counting()));
        assertThat(perPatient.values()).allMatch(c -> c == 1L);
        Set<String> positivePatients = sentById.keySet().stream().map(results.scores::get).filter(s -> s != null)
                .map(s -> s.getPatientRef()).collect(Collectors.toSet());
        assertThat(perPatient.keySet()).isEqualTo(positivePatients);
        // The sample holds patients with several images, so dedup was really exercised.
        assertThat(alerts.size()).isLessThan((int) sentById.keySet().stream().filter(results.scores::containsKey).count());
        for (CxrAlert a : alerts) {
            assertThat(a.getPatientRef()).startsWith("p-");
            assertThat(a.getSiteId()).isNotBlank();
        }
        // Every later positive image of a patient updates that patient's alert, exactly once.
        Map<String, String> alertOfPatient = alerts.stream()
                .collect(Collectors.toMap(CxrAlert::getPatientRef, CxrAlert::getAlertId));
        List<CxrAlert> updates = results.alertsFor(sentById.keySet()).stream()
                .filter(a -> a.getEvent() == org.cxrtriage.schemas.AlertEvent.UPDATED).toList();
        long scoredPositive = sentById.keySet().stream().map(results.scores::get).filter(s -> s != null).count();
        assertThat(updates).hasSize((int) (scoredPositive - alerts.size()));
        assertThat(updates.stream().map(CxrAlert::getImageId).distinct().count()).isEqualTo(updates.size());
        for (CxrAlert u : updates) {
            assertThat(u.getAlertId()).isEqualTo(alertOfPatient.get(u.getPatientRef()));
            assertThat(u.getImageCount()).isGreaterThan(1);
            // Nothing was retracted here: the alert's revision is its image count.
            assertThat(u.getRevision()).isEqualTo(u.getImageCount());
        }
        assertThat(alerts).extracting(CxrAlert::getRevision).containsOnly(1L);
    }

    @Test
    void patientIdentifiersAppearInNoTopicAndNoLog() throws Exception {
        Set<String> rawIds = sentById.values().stream().map(i -> i.metadata().patientId()).collect(Collectors.toSet());
        // File names carry patient numbers too (nih__00001280_004): none may reach a topic or a log either.
        rawIds.addAll(sentById.values().stream().map(i -> i.file().getFileName().toString()
                .replaceFirst("\\.[^.]+$", "")).toList());
        results.scores.values().forEach(s -> assertThat(rawIds).doesNotContain(s.getPatientRef()));
        results.alerts.forEach(a -> assertThat(rawIds).doesNotContain(a.getPatientRef()));

        // Every record of every pipeline topic, as raw bytes.
        java.util.Properties p = org.cxrtriage.common.KafkaSettings.consumer(
                TestStack.isolatedSettings(tempDir), "pii-scan", "pii-scan-" + UUID.randomUUID());
        long records = 0;
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer =
                     new org.apache.kafka.clients.consumer.KafkaConsumer<>(p,
                             new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                             new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            consumer.subscribe(org.cxrtriage.schemas.Topic.all().stream().map(t -> t.name()).toList());
            int emptyPolls = 0;
            while (emptyPolls < 6) {
                var batch = consumer.poll(Duration.ofMillis(500));
                emptyPolls = batch.isEmpty() ? emptyPolls + 1 : 0;
                for (var r : batch) {
                    records++;
                    String text = new String(r.value() == null ? new byte[0] : r.value(),
                            java.nio.charset.StandardCharsets.ISO_8859_1)
                            + (r.key() == null ? "" : new String(r.key(), java.nio.charset.StandardCharsets.ISO_8859_1));
                    for (String id : rawIds) {
                        assertThat(text).as("topic %s", r.topic()).doesNotContain(id);
                    }
                }
            }
        }
        assertThat(records).isGreaterThan(IMAGES * 3L);
        String logText = logs.toString();
        assertThat(logText).isNotEmpty();
        for (String id : rawIds) {
            assertThat(logText).doesNotContain(id);
        }
    }

    /** Adds an appender that keeps everything the services log at INFO and above during this test class. */
    private void captureLogs() {
        org.apache.logging.log4j.core.LoggerContext ctx =
                (org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
        org.apache.logging.log4j.core.Appender appender = org.apache.logging.log4j.core.appender.WriterAppender
                .newBuilder().setName("pii-scan").setTarget(logs)
                .setLayout(org.apache.logging.log4j.core.layout.PatternLayout.newBuilder().withPattern("%m%n").build())
                .build();
        appender.start();
        ctx.getConfiguration().getRootLogger().addAppender(appender, org.apache.logging.log4j.Level.ALL, null);
        ctx.getConfiguration().getRootLogger().setLevel(org.apache.logging.log4j.Level.INFO);
        ctx.updateLoggers();
    }

    /**
     * {@code cxr send}, the way to feed a deployment that runs elsewhere (docker compose): a folder with a manifest
     * goes over HTTP with a site token, the broken file is refused with its reason, and the command returns once
     * every accepted image is a case in the similarity service. A token ingest does not know stops it at once.
     */
    @Test
    void sendCommandFeedsARunningDeploymentAndWaitsUntilEveryAcceptedImageIsACase() throws Exception {
        Set<Path> sent = new HashSet<>();
        sentById.values().forEach(i -> sent.add(i.file()));
        List<FolderSource.Item> unsent = FolderSource.list(TestStack.dataDir().resolve("images"),
                java.util.Optional.empty()).stream().filter(i -> !sent.contains(i.file())).toList();
        // From the end of the folder: the HTTP test below takes the first unsent X-ray.
        List<FolderSource.Item> chosen = unsent.subList(unsent.size() - 3, unsent.size());
        Path folder = Files.createDirectories(tempDir.resolve("send"));
        StringBuilder manifest = new StringBuilder("file,patient_id,view,source\n");
        for (int i = 0; i < chosen.size(); i++) {
            Files.copy(chosen.get(i).file(), folder.resolve("xray-" + i + ".png"));
            manifest.append("xray-").append(i).append(".png,send-patient-").append(UUID.randomUUID()).append(",PA,x\n");
        }
        byte[] real = Files.readAllBytes(chosen.get(0).file());
        Files.write(folder.resolve("broken.png"), Arrays.copyOf(real, real.length / 3));
        manifest.append("broken.png,send-patient-broken,PA,x\n");
        Files.writeString(folder.resolve("manifest.csv"), manifest);

        java.io.StringWriter text = new java.io.StringWriter();
        int exit = new picocli.CommandLine(new SendCommand()).setOut(new java.io.PrintWriter(text, true)).execute(
                "--images", folder.toString(), "--token", SITE_TOKEN, "--site", "http-site",
                "--ingest-url", "http://127.0.0.1:" + pipeline.ingest().httpPort(),
                "--similarity-url", "http://127.0.0.1:" + pipeline.similarity().httpPort(), "--wait", "PT2M");
        assertThat(exit).as(text.toString()).isZero();
        assertThat(text.toString()).contains("sent 4 in").contains("3 accepted (0 of them already stored")
                .contains("1 refused {TRUNCATED_OR_CORRUPT=1}").contains("indexed as cases: 3 of 3 accepted");

        java.io.StringWriter refused = new java.io.StringWriter();
        int wrongToken = new picocli.CommandLine(new SendCommand()).setOut(new java.io.PrintWriter(refused, true))
                .execute("--images", folder.toString(), "--token", "not-a-token",
                        "--ingest-url", "http://127.0.0.1:" + pipeline.ingest().httpPort());
        assertThat(wrongToken).as(refused.toString()).isEqualTo(2);
        assertThat(refused.toString()).contains("ingest refused the token (401)");
        // A site token without --site: the manifest's source is another site.
        java.io.StringWriter otherSite = new java.io.StringWriter();
        int forbidden = new picocli.CommandLine(new SendCommand()).setOut(new java.io.PrintWriter(otherSite, true))
                .execute("--images", folder.toString(), "--token", SITE_TOKEN,
                        "--ingest-url", "http://127.0.0.1:" + pipeline.ingest().httpPort());
        assertThat(forbidden).as(otherSite.toString()).isEqualTo(2);
        assertThat(otherSite.toString()).contains("ingest refused the token (403 for this site)");
    }

    @Test
    void httpIngestAcceptsAnXrayAndEveryServiceReportsHealthAndMetrics() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        int port = pipeline.ingest().httpPort();
        // An X-ray this run has not sent yet (the same bytes again would be refused as a duplicate, tested below).
        Set<java.nio.file.Path> sent = new HashSet<>();
        sentById.values().forEach(i -> sent.add(i.file()));
        FolderSource.Item item = FolderSource.list(TestStack.dataDir().resolve("images"), java.util.Optional.empty())
                .stream().filter(i -> !sent.contains(i.file())).findFirst().orElseThrow();
        byte[] png = Files.readAllBytes(item.file());
        HttpRequest upload = multipart(port, png, SITE_TOKEN, Map.of("patientId", "http-patient-" + UUID.randomUUID(),
                "studyId", "http-study", "siteId", "http-site", "viewPosition", "AP"));
        HttpResponse<String> otherSite = http.send(multipart(port, png, SITE_TOKEN, Map.of("patientId", "p",
                "studyId", "s", "siteId", "another-site", "viewPosition", "AP")), HttpResponse.BodyHandlers.ofString());
        assertThat(otherSite.statusCode()).as("a site token submitting for another site").isEqualTo(403);
        HttpResponse<String> noToken = http.send(multipart(port, png, null, Map.of("patientId", "p", "studyId", "s",
                "siteId", "http-site", "viewPosition", "AP")), HttpResponse.BodyHandlers.ofString());
        assertThat(noToken.statusCode()).isEqualTo(401);
        HttpResponse<String> accepted = http.send(upload, HttpResponse.BodyHandlers.ofString());
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        String imageId = accepted.body().replaceAll(".*\"imageId\"\\s*:\\s*\"([^\"]+)\".*", "$1");
        assertThat(results.await(Set.of(imageId), Duration.ofMinutes(1), n -> { })).isEmpty();
        HttpResponse<String> again = http.send(multipart(port, png, SITE_TOKEN, Map.of("patientId", "someone-else",
                "studyId", "http-study-2", "siteId", "http-site", "viewPosition", "AP")), HttpResponse.BodyHandlers.ofString());
        assertThat(again.statusCode()).as("the same bytes again").isEqualTo(409);
        assertThat(again.body()).contains("DUPLICATE_IMAGE").contains(imageId);

        HttpResponse<String> lateral = http.send(multipart(port, png, ADMIN_TOKEN, Map.of("patientId", "x", "studyId", "s",
                "siteId", "site", "viewPosition", "LATERAL")), HttpResponse.BodyHandlers.ofString());
        assertThat(lateral.statusCode()).isEqualTo(422);
        assertThat(lateral.body()).contains("LATERAL_VIEW");
        HttpResponse<String> notImage = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/images?patientId=x&studyId=s&siteId=site&viewPosition=PA"))
                .header("Content-Type", "image/png").header("Authorization", "Bearer " + ADMIN_TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("hello")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(notImage.statusCode()).isEqualTo(415);
        assertThat(notImage.body()).contains("NOT_AN_IMAGE");

        for (Service s : pipeline.services()) {
            assertThat(s.healthy()).as(s.name()).isTrue();
        }
        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.body()).contains("cxr_ingest_accepted_total");
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
    }

    @Test
    void anImageSentUnderTheWrongPatientIsRetractedOutOfTheCasesAndItsAlertAndTakenAgainUnderTheRightOne()
            throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        int port = pipeline.ingest().httpPort();
        // An X-ray no other test sends (the HTTP test above takes the first unsent one).
        Set<java.nio.file.Path> sent = new HashSet<>();
        sentById.values().forEach(i -> sent.add(i.file()));
        byte[] png = Files.readAllBytes(FolderSource.list(TestStack.dataDir().resolve("images"),
                java.util.Optional.empty()).stream().filter(i -> !sent.contains(i.file())).skip(7).findFirst()
                .orElseThrow().file());
        String wrongPatient = "wrong-patient-" + UUID.randomUUID();
        HttpResponse<String> wrong = http.send(multipart(port, png, SITE_TOKEN, Map.of("patientId", wrongPatient,
                "studyId", "retraction-study", "siteId", "http-site", "viewPosition", "PA")),
                HttpResponse.BodyHandlers.ofString());
        assertThat(wrong.statusCode()).as(wrong.body()).isEqualTo(202);
        String wrongId = wrong.body().replaceAll(".*\"imageId\"\\s*:\\s*\"([^\"]+)\".*", "$1");
        assertThat(results.await(Set.of(wrongId), Duration.ofMinutes(1), n -> { })).isEmpty();
        CxrAlert opened = awaitAlert(wrongId, org.cxrtriage.schemas.AlertEvent.OPENED);
        String similar = "http://127.0.0.1:" + pipeline.similarity().httpPort() + "/cases/" + wrongId + "/similar";
        assertThat(http.send(authorised(similar, SITE_TOKEN), HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(200);

        // As a site's operator would: `cxr retract` against the running ingest.
        String[] retract = {"retract", wrongId, "--reason", "WRONG_PATIENT", "--ingest-url",
                "http://127.0.0.1:" + port, "--token", SITE_TOKEN, "--wait", "PT5S"};
        java.io.StringWriter said = new java.io.StringWriter();
        int exit = new picocli.CommandLine(new CxrCli()).setOut(new java.io.PrintWriter(said)).execute(retract);

        assertThat(exit).as(said.toString()).isZero();
        assertThat(said.toString()).isEqualTo(wrongId + " retracted" + System.lineSeparator());
        CxrAlert withdrawn = awaitAlert(wrongId, org.cxrtriage.schemas.AlertEvent.RETRACTED);
        assertThat(withdrawn.getAlertId()).isEqualTo(opened.getAlertId());
        assertThat(withdrawn.getImageCount()).isZero();
        assertThat(withdrawn.getRevision()).isEqualTo(opened.getRevision() + 1);
        assertThat(http.send(authorised(similar, SITE_TOKEN), HttpResponse.BodyHandlers.ofString()).statusCode())
                .as("no longer a case").isEqualTo(404);
        java.io.StringWriter again = new java.io.StringWriter();
        String unknown = "no-such-image-" + UUID.randomUUID();
        String[] twice = {"retract", wrongId, unknown, "--ingest-url", "http://127.0.0.1:" + port, "--token",
                SITE_TOKEN, "--wait", "PT5S"};
        assertThat(new picocli.CommandLine(new CxrCli()).setOut(new java.io.PrintWriter(again)).execute(twice))
                .as("an unknown image fails the command").isEqualTo(2);
        assertThat(again.toString()).contains(wrongId + " already retracted")
                .contains(unknown + " refused (404)").contains("UNKNOWN_IMAGE");
        HttpResponse<String> right = http.send(multipart(port, png, SITE_TOKEN, Map.of("patientId",
                "right-patient-" + UUID.randomUUID(), "studyId", "retraction-study", "siteId", "http-site",
                "viewPosition", "PA")), HttpResponse.BodyHandlers.ofString());
        assertThat(right.statusCode()).as("the same X-ray under the right patient: " + right.body()).isEqualTo(202);
        String rightId = right.body().replaceAll(".*\"imageId\"\\s*:\\s*\"([^\"]+)\".*", "$1");
        assertThat(results.await(Set.of(rightId), Duration.ofMinutes(1), n -> { })).isEmpty();
        assertThat(results.neighbours.get(rightId).getNeighbours()).extracting(Neighbour::getImageId)
                .as("the withdrawn twin is nobody's neighbour").doesNotContain(wrongId);
        assertThat(awaitAlert(rightId, org.cxrtriage.schemas.AlertEvent.OPENED).getAlertId())
                .isNotEqualTo(opened.getAlertId());
    }

    /** The alert event of this kind about this image, once the collector has read it (at most 30 s). */
    private CxrAlert awaitAlert(String imageId, org.cxrtriage.schemas.AlertEvent event) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            java.util.Optional<CxrAlert> found = results.alertsFor(Set.of(imageId)).stream()
                    .filter(a -> a.getEvent() == event).findFirst();
            if (found.isPresent()) {
                return found.get();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no " + event + " alert event for image " + imageId + " within 30 s");
    }

    private static HttpRequest authorised(String url, String token) {
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token).build();
    }

    private static HttpRequest multipart(int port, byte[] file, String token, Map<String, String> fields) {
        String boundary = "b" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        fields.forEach((k, v) -> body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\""
                + k + "\"\r\n\r\n" + v + "\r\n").getBytes()));
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\""
                + "\r\nContent-Type: image/png\r\n\r\n").getBytes());
        body.writeBytes(file);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes());
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/images"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b.build();
    }

    /** Patients with 2-3 images first (to test once-per-patient alerts), then single images, across sources. */
    private static List<FolderSource.Item> pickWithRepeatPatients(List<FolderSource.Item> all, int n) {
        Map<String, List<FolderSource.Item>> byPatient = new HashMap<>();
        for (FolderSource.Item i : all) {
            byPatient.computeIfAbsent(i.metadata().patientId(), k -> new ArrayList<>()).add(i);
        }
        List<FolderSource.Item> out = new ArrayList<>();
        Set<String> used = new HashSet<>();
        byPatient.entrySet().stream().filter(e -> e.getValue().size() >= 2).sorted(Map.Entry.comparingByKey())
                .limit(6).forEach(e -> {
                    out.addAll(e.getValue().subList(0, Math.min(3, e.getValue().size())));
                    used.add(e.getKey());
                });
        double step = all.size() / (double) n;
        for (int i = 0; out.size() < n && i < n * 4; i++) {
            FolderSource.Item item = all.get((int) ((i * step) % all.size()));
            if (used.add(item.metadata().patientId())) {
                out.add(item);
            }
        }
        return out.subList(0, Math.min(n, out.size()));
    }
}
