package org.cxrtriage.model;

import ai.djl.Device;
import ai.djl.Model;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A DJL model (block + weights in native memory) with its metadata. Closing it frees the weights; close
 * every {@link CxrPredictor} made from it first. Thread-safe to share: each worker makes its own predictor.
 */
public final class LoadedModel implements AutoCloseable {
    private final Model model;
    private final ModelMetadata metadata;
    private final Path directory;

    LoadedModel(Model model, ModelMetadata metadata, Path directory) {
        this.model = Objects.requireNonNull(model, "model");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.directory = directory;
    }

    public Model model() {
        return model;
    }

    public ModelMetadata metadata() {
        return metadata;
    }

    /** Directory it was loaded from, or null when created in memory. */
    public Path directory() {
        return directory;
    }

    public Device device() {
        return model.getNDManager().getDevice();
    }

    /** A predictor for the calling worker thread; see {@link CxrPredictor}. */
    public CxrPredictor newPredictor(int batchSize) {
        return new CxrPredictor(this, batchSize);
    }

    @Override
    public void close() {
        model.close();
    }

    @Override
    public String toString() {
        return "LoadedModel[" + metadata.name() + ":" + metadata.version() + " " + metadata.backbone() + " on "
                + device() + "]";
    }
}
