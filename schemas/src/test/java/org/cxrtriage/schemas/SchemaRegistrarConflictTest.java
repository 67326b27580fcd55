package org.cxrtriage.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The registry's 409s, from a stub that answers in a scripted order: "already exists" (a registrar that started at
 * the same moment won) is asked again and then succeeds; a compatibility rule violation, also a 409 in Apicurio, is
 * final at once. The race itself, against the real registry: {@code SchemaEvolutionRegistryTest}.
 */
class SchemaRegistrarConflictTest {

    private static final String CREATED = "{\"version\":{\"contentId\":7}}";
    private HttpServer server;
    private String base;
    /** Answers for POST .../artifacts, in order (the last one repeats); any GET is 404 (no such artifact yet). */
    private final Deque<Answer> artifactAnswers = new ArrayDeque<>();
    /** Answers for PUT .../config/{subject}, in order (the last one repeats). */
    private final Deque<Answer> ruleAnswers = new ArrayDeque<>();
    private final AtomicInteger artifactPosts = new AtomicInteger();
    private final AtomicInteger rulePuts = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            if (method.equals("POST") && path.endsWith("/artifacts")) {
                artifactPosts.incrementAndGet();
                answer(exchange, next(artifactAnswers));
            } else if (method.equals("PUT") && path.contains("/config/")) {
                rulePuts.incrementAndGet();
                answer(exchange, next(ruleAnswers));
            } else {
                answer(exchange, new Answer(404, "{}"));
            }
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aRuleThatAConcurrentRegistrarJustCreatedIsSetOnTheNextAsk() {
        artifact(200, CREATED);
        rule(409, "{\"message\":\"A rule named 'COMPATIBILITY' already exists.\",\"error_code\":0}");
        rule(200, "{\"compatibility\":\"BACKWARD\"}");
        assertThat(registrar().register(Topic.SCORES)).isEqualTo(7);
        assertThat(rulePuts).hasValue(2);
    }

    @Test
    void anArtifactThatAConcurrentRegistrarJustCreatedIsFoundOnTheNextAsk() {
        artifact(409, "{\"name\":\"ArtifactAlreadyExistsException\",\"status\":409}");
        artifact(200, CREATED);
        rule(200, "{\"compatibility\":\"BACKWARD\"}");
        assertThat(registrar().register(Topic.SCORES)).isEqualTo(7);
        assertThat(artifactPosts).hasValue(2);
    }

    @Test
    void aSchemaThatBreaksTheCompatibilityRuleIsRefusedWithoutAskingAgain() {
        artifact(409, "{\"name\":\"RuleViolationException\",\"message\":\"Incompatible artifact\",\"status\":409}");
        assertThatThrownBy(() -> registrar().register(Topic.SCORES)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("RuleViolationException");
        assertThat(artifactPosts).hasValue(1);
    }

    @Test
    void aConflictThatPersistsIsReportedAfterThreeAsks() {
        artifact(200, CREATED);
        rule(409, "{\"message\":\"A rule named 'COMPATIBILITY' already exists.\",\"error_code\":0}");
        assertThatThrownBy(() -> registrar().register(Topic.SCORES)).hasMessageContaining("409")
                .hasMessageContaining("already exists");
        assertThat(rulePuts).hasValue(3);
    }

    private SchemaRegistrar registrar() {
        return new SchemaRegistrar(base + "/apis/registry/v3", base + "/apis/ccompat/v7");
    }

    private record Answer(int status, String body) {
    }

    private void artifact(int status, String body) {
        artifactAnswers.add(new Answer(status, body));
    }

    private void rule(int status, String body) {
        ruleAnswers.add(new Answer(status, body));
    }

    private static Answer next(Deque<Answer> answers) {
        synchronized (answers) {
            return answers.size() > 1 ? answers.poll() : answers.peek();
        }
    }

    private static void answer(HttpExchange exchange, Answer answer) throws IOException {
        byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(answer.status(), bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }
}
