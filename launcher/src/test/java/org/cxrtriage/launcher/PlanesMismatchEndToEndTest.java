package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.cxrtriage.common.Settings;
import org.cxrtriage.inference.InferenceService;
import org.cxrtriage.inference.ScoreMapper;
import org.cxrtriage.ingest.FolderIngest;
import org.cxrtriage.ingest.FolderSource;
import org.cxrtriage.model.ModelMetadata;
import org.cxrtriage.preprocess.PreprocessService;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.Stage;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream configured with another lung channel than the default model was trained on (the heuristic instead of the
 * U-Net), through the real broker, registry and Redis: the inference service scores none of its images, and rejects
 * every one with PLANES_MISMATCH and the reason; none is lost, and uploads to /similar are refused the same way.
 */
@Tag("e2e")
class PlanesMismatchEndToEndTest {

    private static final int IMAGES = 3;

    @Test
    void tensorsOfOtherPlanesThanTheModelsAreRejectedNotScored(@TempDir Path dir) throws Exception {
        Path data = TestStack.dataDir();
        Assumptions.assumeTrue(Files.isRegularFile(data.resolve("manifest.csv")), "shared data set not found at " + data);
        Settings settings = TestStack.isolatedSettings(dir).with(Map.of(PreprocessService.LUNG_SEGMENTER, "heuristic"));
        Path modelJson = Path.of(settings.string(InferenceService.MODEL_DIR, "")).resolve("model.json");
        Assumptions.assumeTrue(Files.isRegularFile(modelJson)
                && ModelMetadata.fromJson(Files.readString(modelJson)).planes() != null, "no model that records planes");
        List<FolderSource.Item> items = FolderSource.list(data.resolve("images"),
                FolderSource.findManifest(data.resolve("images"))).subList(0, IMAGES);

        try (LocalPipeline pipeline = new LocalPipeline(settings)) {
            pipeline.start();
            try (ResultCollector results = new ResultCollector(settings)) {
                Map<String, FolderSource.Item> sent = new LinkedHashMap<>();
                for (FolderIngest.Outcome o : new FolderIngest(pipeline.ingest()).send(items, o -> { })) {
                    assertThat(o.isAccepted()).as("accepted at the door").isTrue();
                    sent.put(o.accepted().getImageId(), o.item());
                }
                Set<String> missing = results.await(sent.keySet(), Duration.ofMinutes(2), n -> { });

                assertThat(missing).as("images never scored nor rejected").isEmpty();
                assertThat(results.scores.keySet()).as("scored with the wrong planes").doesNotContainAnyElementsOf(
                        sent.keySet());
                for (String id : sent.keySet()) {
                    CxrRejected r = results.rejected.get(id);
                    assertThat(r.getStage()).isEqualTo(Stage.INFERENCE);
                    assertThat(r.getReasonCode()).isEqualTo(ScoreMapper.PLANES_MISMATCH);
                    assertThat(r.getMessage()).contains("lungs=unet-lungs:", "lungs=heuristic");
                }

                HttpClient http = HttpClient.newHttpClient();
                HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + inference(pipeline).httpPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
                // At least ours: the stream starts at the topic's beginning, so images of earlier tests count too.
                java.util.regex.Matcher counter = java.util.regex.Pattern
                        .compile("cxr_inference_planes_mismatch_total\\{[^}]*} ([0-9.]+)").matcher(metrics.body());
                assertThat(counter.find()).as(metrics.body()).isTrue();
                assertThat(Double.parseDouble(counter.group(1))).isGreaterThanOrEqualTo(IMAGES);

                byte[] xray = Files.readAllBytes(items.get(0).file());
                HttpResponse<String> upload = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                + pipeline.similarity().httpPort() + "/similar")).header("Authorization", "Bearer "
                                + pipeline.apiToken()).header("Content-Type", "image/png")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(xray)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(upload.statusCode()).isEqualTo(503);
                assertThat(upload.body()).contains("PLANES_MISMATCH", "lungs=heuristic");
            }
        }
    }

    private static InferenceService inference(LocalPipeline pipeline) {
        return pipeline.services().stream().filter(InferenceService.class::isInstance)
                .map(InferenceService.class::cast).findFirst().orElseThrow();
    }
}
