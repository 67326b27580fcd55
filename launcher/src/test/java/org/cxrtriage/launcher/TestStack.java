package org.cxrtriage.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.cxrtriage.common.Settings;
import org.cxrtriage.inference.InferenceService;
import org.cxrtriage.preprocess.PreprocessService;
import org.cxrtriage.similarity.SimilarityService;

/** Settings for tests against the real stack started by bin/test.sh (env from scripts/stack.sh env). */
final class TestStack {

    private TestStack() {
    }

    /** Unique groups, application id and Redis namespace, so a run never sees another run's state. */
    static Settings isolatedSettings(Path tempDir) {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path repoModel = Path.of("..", "models", "default");
        String modelDir = Files.exists(repoModel.resolve("model.json")) ? repoModel.toString()
                : tempDir.resolve("seeded-model").toString();
        return Settings.fromEnv().with(Map.of(
                // A key of its own: patients of this run never collide with records left by earlier runs.
                org.cxrtriage.common.Pseudonymiser.KEY_SETTING, "test-key-" + UUID.randomUUID(),
                SimilarityService.REDIS_KEY_PREFIX, "cxr:test-" + run + ":",
                SimilarityService.GROUP_ID, "cxr-similarity-" + run,
                InferenceService.GROUP_ID, "cxr-inference-" + run,
                InferenceService.MODEL_DIR, modelDir,
                PreprocessService.APPLICATION_ID, "cxr-preprocess-" + run,
                PreprocessService.STATE_DIR, tempDir.resolve("streams").toString()));
    }

    /** The shared data set: $CXR_DATA_DIR or ../../shared/data/cxr from the module folder. */
    static Path dataDir() {
        String env = System.getenv("CXR_DATA_DIR");
        return env != null ? Path.of(env) : Path.of("..", "..", "shared", "data", "cxr");
    }
}
