package org.cxrtriage.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.microsoft.kiota.ApiException;
import com.microsoft.kiota.ApiExceptionBuilder;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Registry requests end: a registry that accepts connections and never answers, one that refuses them, one that says
 * the schema does not exist. Without {@link TimeBoundSchemaResolver} the first case blocks for ever (the stock client
 * has no timeout), and {@code assertTimeoutPreemptively} fails the test.
 */
class TimeBoundSchemaResolverTest {

    private static final long TIMEOUT_MS = 400;
    private static final long ANSWERING_TIMEOUT_MS = 5_000;
    private static final Duration TEST_LIMIT = Duration.ofSeconds(20);

    private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    @Test
    void aDeserializerFacingASilentRegistryFailsWithinItsTimeoutAndSaysTheRegistryIsUnavailable() throws Exception {
        String url = silentRegistry();
        Deserializer<CxrScore> deserializer = serdes(url).deserializer(Topic.SCORES);
        toClose.add(deserializer);

        long t0 = System.nanoTime();
        Throwable error = assertTimeoutPreemptively(TEST_LIMIT,
                () -> catchThrowable(() -> deserializer.deserialize(Topic.SCORES.name(), wireBytes(4242))));
        long ms = (System.nanoTime() - t0) / 1_000_000;

        assertThat(error).isNotNull();
        assertThat(RegistryErrors.unavailable(error)).as("classified as unavailable: %s", error).isTrue();
        assertThat(ms).as("one request's limit, retries included").isGreaterThanOrEqualTo(TIMEOUT_MS).isLessThan(10_000);
    }

    @Test
    void aSerializerFacingASilentRegistryFailsWithinItsTimeout() throws Exception {
        String url = silentRegistry();
        Serializer<CxrScore> serializer = serdes(url).serializer(Topic.SCORES);
        toClose.add(serializer);

        Throwable error = assertTimeoutPreemptively(TEST_LIMIT,
                () -> catchThrowable(() -> serializer.serialize(Topic.SCORES.name(), score())));

        assertThat(error).isNotNull();
        assertThat(RegistryErrors.unavailable(error)).as("classified as unavailable: %s", error).isTrue();
    }

    @Test
    void aRegistryThatRefusesConnectionsIsUnavailable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Deserializer<CxrScore> deserializer = serdes("http://127.0.0.1:" + port + "/apis/registry/v3")
                .deserializer(Topic.SCORES);
        toClose.add(deserializer);

        Throwable error = assertTimeoutPreemptively(TEST_LIMIT,
                () -> catchThrowable(() -> deserializer.deserialize(Topic.SCORES.name(), wireBytes(7))));

        assertThat(RegistryErrors.unavailable(error)).as("classified as unavailable: %s", error).isTrue();
    }

    @Test
    void anUnknownSchemaIdIsNotAnOutageButIsReadAgainLater() throws Exception {
        Deserializer<CxrScore> deserializer = deserializerAgainst(path -> new Answer(404, "application/problem+json",
                "{\"status\":404,\"title\":\"No content with id '7' was found.\","
                        + "\"name\":\"ContentNotFoundException\"}"));

        Throwable error = assertTimeoutPreemptively(TEST_LIMIT,
                () -> catchThrowable(() -> deserializer.deserialize(Topic.SCORES.name(), wireBytes(7))));

        assertThat(error).isNotNull();
        assertThat(RegistryErrors.unavailable(error)).as("a missing schema is not an outage: %s", error).isFalse();
        assertThat(RegistryErrors.schemaUnknown(error)).as("but the registry does not know it: %s", error).isTrue();
        assertThat(RegistryErrors.readAgainLater(error)).as("so the record waits, it is not skipped").isTrue();
    }

    @Test
    void aBodyThatDoesNotDecodeUnderASchemaTheRegistryKnowsIsNotReadAgain() throws Exception {
        // A registry that knows every id: it answers with the scores schema (and no references).
        Deserializer<CxrScore> deserializer = deserializerAgainst(path -> new Answer(200, "application/json",
                path.endsWith("/references") ? "[]" : CxrScore.getClassSchema().toString()));

        // wireBytes' four Avro bytes are far shorter than a score: the decoder runs out of input.
        Throwable error = assertTimeoutPreemptively(TEST_LIMIT,
                () -> catchThrowable(() -> deserializer.deserialize(Topic.SCORES.name(), wireBytes(7))));

        assertThat(error).isNotNull();
        assertThat(error).hasRootCauseInstanceOf(java.io.EOFException.class);
        assertThat(RegistryErrors.readAgainLater(error)).as("a bad body, not an outage: %s", error).isFalse();
    }

    @Test
    void classifiesCausesByKind() {
        assertThat(RegistryErrors.unavailable(new RuntimeException(new RegistryUnavailableException("t",
                new TimeoutException("t"))))).isTrue();
        assertThat(RegistryErrors.unavailable(new RuntimeException(new TimeoutException("t"))))
                .as("only a registry call's failure counts, not any timeout").isFalse();
        assertThat(RegistryErrors.unavailable(new java.io.UncheckedIOException(new java.io.EOFException())))
                .as("a truncated Avro body").isFalse();
        assertThat(RegistryErrors.unavailable(apiException(503))).isTrue();
        assertThat(RegistryErrors.unavailable(apiException(429))).isTrue();
        assertThat(RegistryErrors.unavailable(apiException(404))).isFalse();
        assertThat(RegistryErrors.unavailable(new IllegalArgumentException("not our wire format"))).isFalse();
        assertThat(RegistryErrors.readAgainLater(new IllegalArgumentException("not our wire format"))).isFalse();
        assertThat(RegistryErrors.readAgainLater(apiException(404))).isTrue();
        assertThat(RegistryErrors.schemaUnknown(apiException(503))).isFalse();
        assertThat(RegistryErrors.unavailable(null)).isFalse();
    }

    @Test
    void theTimeoutMustBePositive() {
        assertThat(TimeBoundSchemaResolver.requestTimeoutMs(Map.of())).isEqualTo(
                TimeBoundSchemaResolver.DEFAULT_REQUEST_TIMEOUT_MS);
        assertThat(TimeBoundSchemaResolver.requestTimeoutMs(Map.of(TimeBoundSchemaResolver.REQUEST_TIMEOUT_MS, "250")))
                .isEqualTo(250);
        assertThatThrownBy(() -> TimeBoundSchemaResolver.requestTimeoutMs(
                Map.of(TimeBoundSchemaResolver.REQUEST_TIMEOUT_MS, "0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive");
    }

    private record Answer(int status, String contentType, String body) {
    }

    /** A scores deserializer whose registry answers every request with {@code answer} (given the request path). */
    private Deserializer<CxrScore> deserializerAgainst(java.util.function.Function<String, Answer> answer)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            Answer a = answer.apply(exchange.getRequestURI().getPath());
            byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", a.contentType());
            exchange.sendResponseHeaders(a.status(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        toClose.add(() -> server.stop(0));
        // A registry that answers gets a generous limit: a first request in a cold JVM (Vert.x starting) can take
        // longer than the 400 ms the silent-registry tests use.
        Deserializer<CxrScore> deserializer = serdes("http://127.0.0.1:" + server.getAddress().getPort()
                + "/apis/registry/v3", ANSWERING_TIMEOUT_MS).deserializer(Topic.SCORES);
        toClose.add(deserializer);
        return deserializer;
    }

    private AvroSerdes serdes(String url) {
        return serdes(url, TIMEOUT_MS);
    }

    private AvroSerdes serdes(String url, long timeoutMs) {
        return new AvroSerdes(url, AvroSerdes.DEFAULT_SERIALIZER, AvroSerdes.DEFAULT_DESERIALIZER,
                Map.of(TimeBoundSchemaResolver.REQUEST_TIMEOUT_MS, String.valueOf(timeoutMs)));
    }

    /** Accepts connections and reads nothing, answers nothing: a registry that has stopped responding. */
    private String silentRegistry() throws IOException {
        ServerSocket server = new ServerSocket(0);
        List<Socket> held = new CopyOnWriteArrayList<>();
        Thread accept = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    held.add(server.accept());
                } catch (IOException e) {
                    return;
                }
            }
        }, "silent-registry");
        accept.setDaemon(true);
        accept.start();
        toClose.add(() -> {
            server.close();
            for (Socket s : held) {
                s.close();
            }
        });
        return "http://127.0.0.1:" + server.getLocalPort() + "/apis/registry/v3";
    }

    /** The wire format: magic byte 0, 4-byte schema id, then (here meaningless) Avro bytes. */
    private static byte[] wireBytes(int schemaId) {
        return ByteBuffer.allocate(9).put((byte) 0).putInt(schemaId).put(new byte[] {2, 4, 6, 8}).array();
    }

    private static ApiException apiException(int status) {
        return new ApiExceptionBuilder().withMessage("status " + status).withResponseStatusCode(status).build();
    }

    private static CxrScore score() {
        return CxrScore.newBuilder().setImageId("img-1").setStudyId("s").setPatientRef("p").setSiteId("site")
                .setProbability(0.5f).setPositive(false).setThreshold(0.5f).setModelName("m").setModelVersion("t")
                .setEmbedding(List.of()).setReceivedAt(Instant.EPOCH).setScoredAt(Instant.EPOCH).setInferenceMs(1f)
                .setBatchSize(1).build();
    }
}
