package org.cxrtriage.preprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.cxrtriage.common.Settings;
import org.cxrtriage.model.LungChannel;
import org.cxrtriage.model.LungModelDirectory;
import org.cxrtriage.model.ModelDirectory;
import org.cxrtriage.model.ModelMetadata;
import org.junit.jupiter.api.Test;

/**
 * The committed default model records the planes it was trained on, and they are the planes this service makes with
 * its defaults: otherwise the inference service would reject every image of a default deployment (PLANES_MISMATCH).
 */
class DefaultModelPlanesTest {

    @Test
    void theDefaultModelTakesThePlanesOfTheDefaultStream() throws IOException {
        Path modelJson = LungChannel.resolve("models/default").resolve(ModelDirectory.METADATA_FILE);
        assumeTrue(Files.isRegularFile(modelJson), "no default model");
        assumeTrue(Files.isRegularFile(LungChannel.resolve(LungChannel.DEFAULT_MODEL_DIR)
                .resolve(LungModelDirectory.METADATA_FILE)), "no lung U-Net in " + LungChannel.DEFAULT_MODEL_DIR);

        String streamPlanes = PreprocessService.tensorFactory(Settings.of(Map.of())).planes().contents();

        assertThat(ModelMetadata.fromJson(Files.readString(modelJson)).planes())
                .isEqualTo(streamPlanes)
                .isEqualTo("cxr-preprocess-1;size=256;clahe=2.00x8;work=2.00;lungs=unet-lungs:cxr-lung-unet:1.0.0");
    }
}
