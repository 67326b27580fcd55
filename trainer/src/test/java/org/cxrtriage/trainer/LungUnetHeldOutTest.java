package org.cxrtriage.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.cxrtriage.model.LungChannel;
import org.cxrtriage.model.LungModelDirectory;
import org.cxrtriage.model.TorchRuntime;
import org.cxrtriage.model.UnetLungSegmenter;
import org.junit.jupiter.api.Test;

/**
 * The committed lung U-Net against the held-out hand-drawn masks of its patient-level split, at the plane resolution
 * (256) through the stream's own classes. Needs the shared data ($CXR_DATA_DIR or ../../shared/data/cxr); skipped
 * without it.
 */
class LungUnetHeldOutTest {
    @Test
    void meanDiceOnHeldOutHandDrawnMasksIsAtLeast092() throws Exception {
        String env = System.getenv("CXR_DATA_DIR");
        Path data = Path.of(env != null ? env : "../../shared/data/cxr");
        Path modelDir = LungChannel.resolve(LungChannel.DEFAULT_MODEL_DIR);
        assumeTrue(Files.isRegularFile(data.resolve("manifest.csv")) && Files.isRegularFile(data.resolve(LungMasks.FILE_NAME)),
                "no CXR data with lung masks at " + data);
        assumeTrue(Files.isRegularFile(modelDir.resolve(LungModelDirectory.METADATA_FILE)), "no lung U-Net at " + modelDir);
        TorchRuntime.configureThreads(2, 1);

        Manifest manifest = Manifest.read(data.resolve("manifest.csv"));
        List<LungMasks.Sample> all = LungMasks.load(manifest, data.resolve(LungMasks.FILE_NAME), 256, 2, System.out);
        DataSplit split = DataSplit.read(modelDir.resolve(TrainLungsCommand.SPLIT_FILE));
        List<LungMasks.Sample> test = all.stream()
                .filter(s -> s.handDrawn() && split.partOf(s.entry()) == DataSplit.Part.TEST).toList();
        Set<String> testPatients = new HashSet<>();
        test.forEach(s -> testPatients.add(s.patientId()));
        assertThat(all.stream().filter(s -> split.partOf(s.entry()) != DataSplit.Part.TEST)
                .map(LungMasks.Sample::patientId)).doesNotContainAnyElementsOf(testPatients);
        assertThat(test).hasSizeGreaterThanOrEqualTo(50);

        try (UnetLungSegmenter unet = UnetLungSegmenter.load(modelDir)) {
            LungEvaluation.Summary s = LungEvaluation.evaluate(test, unet);
            System.out.println("held-out hand-drawn masks: " + s.line());
            assertThat(s.mean()).isGreaterThanOrEqualTo(0.92);
            assertThat(s.min()).isGreaterThan(0.5);
        }
    }
}
