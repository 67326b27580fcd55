package org.cxrtriage.trainer;

import java.io.IOException;
import org.cxrtriage.imaging.LungSegmenter;
import org.cxrtriage.model.LungChannel;
import picocli.CommandLine.Option;

/** The lung channel of the classifier's input planes, as the preprocess service is configured (picocli mixin). */
final class LungOptions {
    @Option(names = "--lungs", defaultValue = LungChannel.DEFAULT_KIND,
            description = "lung channel: unet (the stream's default) | heuristic (default: ${DEFAULT-VALUE})")
    String kind;

    @Option(names = "--lung-model-dir", defaultValue = LungChannel.DEFAULT_MODEL_DIR,
            description = "lung U-Net directory (default: ${DEFAULT-VALUE})")
    String modelDir;

    @Option(names = "--min-lung-fraction", defaultValue = "-1",
            description = "images below are skipped, as the preprocess service rejects them; default: the service's "
                    + "default for the lung channel")
    double minLungFraction;

    LungSegmenter open() throws IOException {
        return LungChannel.open(kind, modelDir);
    }

    double minLungFraction(LungSegmenter lungs) {
        return minLungFraction >= 0 ? minLungFraction : LungChannel.defaultMinLungFraction(lungs);
    }
}
