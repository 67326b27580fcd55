package org.cxrtriage.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A registry that wants basic credentials: the registrar sends the serdes' own, and says so when it has none. */
class SchemaRegistrarAuthTest {

    private static final String EXPECTED = "Basic " + Base64.getEncoder()
            .encodeToString("svc:s3cret".getBytes(StandardCharsets.UTF_8));
    private HttpServer server;
    private String base;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            boolean allowed = EXPECTED.equals(exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] body = (allowed ? "{\"compatibilityLevel\":\"BACKWARD\"}" : "{\"error_code\":401}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(allowed ? 200 : 401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void sendsTheSerdesCredentials() {
        SchemaRegistrar registrar = new SchemaRegistrar(base + "/apis/registry/v3", base + "/apis/ccompat/v7", "svc",
                "s3cret");
        assertThat(registrar.compatibility("cxr.scores.v1-value")).isEqualTo("BACKWARD");
    }

    @Test
    void withoutCredentialsTheRefusalSaysWhichSettingsAreMissing() {
        SchemaRegistrar registrar = new SchemaRegistrar(base + "/apis/registry/v3", base + "/apis/ccompat/v7");
        assertThatThrownBy(() -> registrar.compatibility("cxr.scores.v1-value"))
                .hasMessageContaining("401").hasMessageContaining("SERDE_apicurio.registry.auth.username")
                .hasMessageContaining("none are set");
    }
}
