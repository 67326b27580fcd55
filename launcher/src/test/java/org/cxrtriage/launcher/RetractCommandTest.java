package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * How `cxr retract` asks again while ingest answers 503 (the real ingest answers it in PipelineEndToEndTest; here a
 * small HTTP server plays an ingest whose broker is away for a moment).
 */
class RetractCommandTest {

    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private String serve(int unavailableTimes, List<String> asked) throws Exception {
        AtomicInteger calls = new AtomicInteger();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/images/", exchange -> {
            asked.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " "
                    + exchange.getRequestHeaders().getFirst("Authorization"));
            boolean unavailable = calls.incrementAndGet() <= unavailableTimes;
            byte[] body = (unavailable ? "{\"error\":\"BROKER_UNAVAILABLE\"}"
                    : "{\"imageId\":\"x\",\"retracted\":true,\"alreadyRetracted\":false}").getBytes(StandardCharsets.UTF_8);
            if (unavailable) {
                exchange.getResponseHeaders().add("Retry-After", "1");
            }
            exchange.sendResponseHeaders(unavailable ? 503 : 202, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static int run(StringWriter out, String... args) {
        return new CommandLine(new CxrCli()).setOut(new PrintWriter(out)).setErr(new PrintWriter(new StringWriter()))
                .execute(args);
    }

    @Test
    void asksAgainWhileIngestAnswers503AndSaysWhatHappened() throws Exception {
        List<String> asked = new CopyOnWriteArrayList<>();
        String url = serve(2, asked);
        StringWriter out = new StringWriter();

        int exit = run(out, "retract", "img 1", "--reason", "WRONG_IMAGE", "--ingest-url", url, "--token", "t0k",
                "--wait", "PT20S");

        assertThat(exit).isZero();
        assertThat(out.toString()).isEqualTo("img 1 retracted" + System.lineSeparator());
        assertThat(asked).hasSize(3).allMatch(a -> a.equals("DELETE /images/img%201?reason=WRONG_IMAGE Bearer t0k"));
    }

    @Test
    void givesUpAfterItsWaitAndFailsWithoutAToken() throws Exception {
        String url = serve(Integer.MAX_VALUE, new CopyOnWriteArrayList<>());
        StringWriter out = new StringWriter();

        assertThat(run(out, "retract", "x", "--ingest-url", url, "--token", "t", "--wait", "PT1S")).isEqualTo(2);
        assertThat(out.toString()).startsWith("x refused (503): ").contains("BROKER_UNAVAILABLE");
        assertThat(run(new StringWriter(), "retract", "x", "--ingest-url", url, "--token", "")).isEqualTo(2);
    }
}
