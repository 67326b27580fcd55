package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * How `cxr retract` asks again while ingest is away and reads what it answers (the real ingest answers it in
 * PipelineEndToEndTest; here a small HTTP server plays an ingest behind a proxy whose broker is away for a moment).
 */
class RetractCommandTest {

    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    /** Serves /cxr/images/: {@code unavailable} 503s with {@code retryAfter}, then 202; 401 for token "bad". */
    private String serve(int unavailable, String retryAfter, List<String> asked) throws Exception {
        AtomicInteger calls = new AtomicInteger();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/cxr/images/", exchange -> {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            asked.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + auth);
            int status = auth.equals("Bearer bad") ? 401 : calls.incrementAndGet() <= unavailable ? 503 : 202;
            byte[] body = (status == 202 ? "{\"imageId\":\"x\",\"retracted\":true,\"alreadyRetracted\":false}"
                    : status == 401 ? "{\"error\":\"UNAUTHORISED\"}" : "{\"error\":\"BROKER_UNAVAILABLE\"}")
                    .getBytes(StandardCharsets.UTF_8);
            if (status == 503 && retryAfter != null) {
                exchange.getResponseHeaders().add("Retry-After", retryAfter);
            }
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/cxr"; // behind a proxy's path prefix
    }

    private static int run(StringWriter out, String... args) {
        return new CommandLine(new CxrCli()).setOut(new PrintWriter(out)).setErr(new PrintWriter(new StringWriter()))
                .execute(args);
    }

    @Test
    void asksAgainAfterRetryAfterWhileIngestAnswers503AndKeepsTheAddressPath() throws Exception {
        List<String> asked = new CopyOnWriteArrayList<>();
        String url = serve(1, "2", asked);
        StringWriter out = new StringWriter();
        long t0 = System.nanoTime();

        int exit = run(out, "retract", "img 1", "--reason", "WRONG_IMAGE", "--ingest-url", url, "--token", "t0k",
                "--wait", "PT20S");

        assertThat(exit).isZero();
        assertThat((System.nanoTime() - t0) / 1_000_000).as("waited as ingest asked").isGreaterThanOrEqualTo(2_000);
        assertThat(out.toString()).isEqualTo("img 1 retracted" + System.lineSeparator());
        assertThat(asked).hasSize(2)
                .allMatch(a -> a.equals("DELETE /cxr/images/img%201?reason=WRONG_IMAGE Bearer t0k"));
    }

    @Test
    void aRetryAfterDateIsReadAndTheWaitIsForTheWholeCommand() throws Exception {
        String date = ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(3).format(DateTimeFormatter.RFC_1123_DATE_TIME);
        assertThat(RetractCommand.retryAfterSeconds(date)).isBetween(1L, 3L);
        assertThat(RetractCommand.retryAfterSeconds("soon")).isEqualTo(1);
        List<String> asked = new CopyOnWriteArrayList<>();
        String url = serve(Integer.MAX_VALUE, date, asked);
        StringWriter out = new StringWriter();
        long t0 = System.nanoTime();

        assertThat(run(out, "retract", "x", "y", "--ingest-url", url, "--token", "t", "--wait", "PT2S"))
                .isEqualTo(2);

        assertThat((System.nanoTime() - t0) / 1_000_000).as("one wait for both").isLessThan(5_000);
        assertThat(out.toString()).contains("x refused (503): ").contains("y refused (503): ")
                .contains("BROKER_UNAVAILABLE");
    }

    @Test
    void aRefusedTokenStopsTheCommandAndNoTokenAsksNothing() throws Exception {
        List<String> asked = new CopyOnWriteArrayList<>();
        String url = serve(0, null, asked);
        StringWriter out = new StringWriter();

        assertThat(run(out, "retract", "x", "y", "--ingest-url", url, "--token", "bad")).isEqualTo(2);
        assertThat(out.toString()).contains("x refused (401)").contains("y not tried (the token was refused)")
                .doesNotContain("bad");
        assertThat(asked).hasSize(1);

        assertThat(run(new StringWriter(), "retract", "x", "--ingest-url", url, "--token", " ")).isEqualTo(2);
        assertThat(asked).as("nothing sent without a token").hasSize(1);
    }
}
