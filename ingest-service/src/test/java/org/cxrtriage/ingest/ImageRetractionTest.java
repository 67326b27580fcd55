package org.cxrtriage.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.ApiTokens;
import org.cxrtriage.common.CommonKeys;
import org.cxrtriage.common.Pseudonymiser;
import org.cxrtriage.common.Settings;
import org.cxrtriage.schemas.CxrRetraction;
import org.cxrtriage.schemas.RetractionReason;
import org.cxrtriage.schemas.Topic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * DELETE /images/{imageId} over HTTP: real Redis ($REDIS_URL) for what ingest remembers, Kafka's {@code MockProducer}
 * (acknowledging every send) for the broker. What the similarity service then does with a retraction:
 * {@code RetractionTest} there, and the end-to-end run in the launcher.
 */
@org.junit.jupiter.api.Timeout(value = 60, unit = java.util.concurrent.TimeUnit.SECONDS)
class ImageRetractionTest {

    private static final String SITE_A = "site-a-token-0123456789";
    private static final String SITE_B = "site-b-token-0123456789";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    private RedisClient redis;
    private String prefix;
    private MockProducer<String, SpecificRecord> producer;
    private IngestService service;
    private byte[] png;

    @BeforeEach
    void start() throws Exception {
        redis = RedisClient.create(URI.create(System.getenv().getOrDefault(CommonKeys.REDIS_URL,
                CommonKeys.DEFAULT_REDIS_URL)));
        prefix = "cxr:unit-" + UUID.randomUUID() + ":";
        producer = new MockProducer<>(true, null, new StringSerializer(), (topic, value) -> new byte[0]);
        service = new IngestService(Settings.of(Map.of(CommonKeys.HTTP_HOST, "127.0.0.1", CommonKeys.HTTP_PORT, "0",
                ApiTokens.TOKENS, SITE_A + "=ED-A," + SITE_B + "=ED-B", Pseudonymiser.KEY_SETTING,
                "retraction-key-0123456789")));
        service.startHttp(producer, new DuplicateGuard(redis, prefix, Duration.ofDays(1), IngestService.UNSETTLED_FOR),
                (imageId, from, to) -> false);
        png = ImageAdmissionTest.image("png", 200, 160, BufferedImage.TYPE_BYTE_GRAY);
    }

    @AfterEach
    void stop() {
        service.close();
        redis.keys(prefix + "*").forEach(redis::del);
        redis.close();
    }

    private HttpResponse<String> upload(String patient) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + service.httpPort() + "/images?patientId=" + patient
                + "&studyId=study-1&siteId=ED-A&viewPosition=PA");
        return HTTP.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + SITE_A)
                .header("Content-Type", "image/png").POST(HttpRequest.BodyPublishers.ofByteArray(png)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> retract(String token, String imageId, String query) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + service.httpPort() + "/images/" + imageId + query);
        return HTTP.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode body(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    private List<CxrRetraction> retractions() {
        return producer.history().stream().filter(r -> r.topic().equals(Topic.RETRACTIONS.name()))
                .map(r -> (CxrRetraction) r.value()).toList();
    }

    @Test
    void anImageSentUnderTheWrongPatientIsRetractedAndThenTakenAgainUnderTheRightOne() throws Exception {
        HttpResponse<String> wrong = upload("MRN-WRONG");
        assertThat(wrong.statusCode()).isEqualTo(202);
        String wrongId = body(wrong).get("imageId").asText();
        String wrongRef = body(wrong).get("patientRef").asText();
        assertThat(upload("MRN-RIGHT").statusCode()).as("the same X-ray again: a duplicate").isEqualTo(409);

        HttpResponse<String> retracted = retract(SITE_A, wrongId, "?reason=wrong_patient");

        assertThat(retracted.statusCode()).isEqualTo(202);
        assertThat(body(retracted).get("alreadyRetracted").asBoolean()).isFalse();
        assertThat(retractions()).singleElement().satisfies(r -> {
            assertThat(r.getImageId()).isEqualTo(wrongId);
            assertThat(r.getPatientRef()).isEqualTo(wrongRef);
            assertThat(r.getSiteId()).isEqualTo("ED-A");
            assertThat(r.getReason()).isEqualTo(RetractionReason.WRONG_PATIENT);
            assertThat(r.getRetractedBy()).startsWith("token:ED-A:").doesNotContain(SITE_A);
        });
        assertThat(producer.history().stream().filter(r -> r.topic().equals(Topic.RETRACTIONS.name())))
                .singleElement().satisfies(r -> assertThat(r.key()).isEqualTo(wrongId));

        HttpResponse<String> right = upload("MRN-RIGHT");
        assertThat(right.statusCode()).as(right.body()).isEqualTo(202);
        assertThat(body(right).get("imageId").asText()).isNotEqualTo(wrongId);
        assertThat(body(right).get("patientRef").asText()).isNotEqualTo(wrongRef);
        assertThat(upload("MRN-RIGHT").statusCode()).as("the corrected image is guarded again").isEqualTo(409);

        HttpResponse<String> again = retract(SITE_A, wrongId, "");
        assertThat(again.statusCode()).isEqualTo(202);
        assertThat(body(again).get("alreadyRetracted").asBoolean()).isTrue();
        assertThat(retractions()).as("published once").hasSize(1);
    }

    @Test
    void onlyTheImagesSiteMayRetractItAndUnknownImagesAndReasonsAreRefused() throws Exception {
        String id = body(upload("MRN-1")).get("imageId").asText();

        assertThat(retract(SITE_B, id, "").statusCode()).isEqualTo(403);
        assertThat(retract("not-a-token-0123456789", id, "").statusCode()).isEqualTo(401);
        HttpResponse<String> unknown = retract(SITE_A, UUID.randomUUID().toString(), "");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(body(unknown).get("error").asText()).isEqualTo("UNKNOWN_IMAGE");
        HttpResponse<String> badReason = retract(SITE_A, id, "?reason=BORED");
        assertThat(badReason.statusCode()).isEqualTo(400);
        assertThat(body(badReason).get("message").asText()).contains("WRONG_PATIENT");
        assertThat(retractions()).isEmpty();
        assertThat(upload("MRN-2").statusCode()).as("still a duplicate").isEqualTo(409);
    }

    @Test
    void aRetractionTheBrokerDidNotTakeIsRetriedAndChangesNothingMeanwhile() throws Exception {
        String id = body(upload("MRN-1")).get("imageId").asText();
        producer.sendException = new org.apache.kafka.common.errors.TimeoutException("broker away");

        HttpResponse<String> refused = retract(SITE_A, id, "");

        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
        assertThat(upload("MRN-2").statusCode()).as("not freed: the retraction is not stored").isEqualTo(409);
        producer.sendException = null;
        assertThat(retract(SITE_A, id, "").statusCode()).isEqualTo(202);
        assertThat(retractions()).hasSize(1);
        assertThat(upload("MRN-2").statusCode()).isEqualTo(202);
    }
}
