package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import org.cxrtriage.ingest.IngestMetadata;
import org.cxrtriage.ingest.FolderSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the sender reads ingest's answers, against a scripted HTTP server: a 409 that names the image its own earlier,
 * unacknowledged try was given is that upload stored, not a copy of someone else's.
 */
@org.junit.jupiter.api.Timeout(value = 30, unit = java.util.concurrent.TimeUnit.SECONDS)
class IngestUploaderTest {

    @TempDir
    Path dir;

    private HttpServer server;
    /** Status and body of each answer, in order. */
    private final Deque<Object[]> answers = new java.util.concurrent.ConcurrentLinkedDeque<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/images", exchange -> {
            exchange.getRequestBody().readAllBytes();
            Object[] a = answers.poll();
            byte[] body = ((String) a[1]).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders((Integer) a[0], body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private String upload(IngestUploader uploader) throws Exception {
        Path file = Files.write(dir.resolve("x.png"), new byte[] {1, 2, 3});
        FolderSource.Item item = new FolderSource.Item(file,
                new IngestMetadata("p", "s", "site", null, "PA", null), Map.of());
        return uploader.upload(item, new HashMap<>());
    }

    @Test
    void aConflictNamingItsOwnUnacknowledgedTryIsThisUploadStored() throws Exception {
        IngestUploader uploader = new IngestUploader(URI.create("http://127.0.0.1:" + server.getAddress().getPort()),
                "token");
        answers.add(new Object[] {503, "{\"error\":\"BROKER_UNAVAILABLE\",\"imageId\":\"img-1\"}"});
        answers.add(new Object[] {503, "{\"error\":\"UPLOAD_IN_PROGRESS\",\"message\":\"retry in 2 s\"}"});
        answers.add(new Object[] {409, "{\"error\":\"DUPLICATE_IMAGE\",\"imageId\":\"img-1\"}"});

        assertThat(upload(uploader)).isEqualTo("img-1");
        assertThat(uploader.alreadyStored()).as("its own image, not a copy").isZero();

        answers.add(new Object[] {409, "{\"error\":\"DUPLICATE_IMAGE\",\"imageId\":\"img-0\"}"});
        assertThat(upload(uploader)).isEqualTo("img-0");
        assertThat(uploader.alreadyStored()).as("sent before by someone").isEqualTo(1);
    }
}
