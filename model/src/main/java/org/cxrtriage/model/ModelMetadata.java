package org.cxrtriage.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;

/**
 * Describes the weights in a model directory; stored as {@value ModelDirectory#METADATA_FILE}.
 *
 * @param inputSize side of the square NCHW input the model was built/trained for
 * @param threshold probability at or above which a case is called positive
 * @param seed seed used to initialise the weights (before any training)
 * @param trained false for freshly initialised (seeded, untrained) weights
 * @param inputView what of the X-ray the model sees; absent in older model.json files, which mean
 *     {@link InputView#FULL}
 * @param planes the contents of the planes it was trained on ({@code TensorPlanes.contents()}: preprocessing settings
 *     and lung segmenter); the inference service refuses tensors with other contents. Null where unknown (untrained
 *     weights, older model.json files): then nothing is checked.
 */
@JsonIgnoreProperties(ignoreUnknown = true) // newer writers may add fields
public record ModelMetadata(
        String name,
        String version,
        Backbone backbone,
        int inputSize,
        int embeddingSize,
        double threshold,
        long seed,
        boolean trained,
        Instant createdAt,
        String notes,
        InputView inputView,
        @JsonInclude(JsonInclude.Include.NON_NULL) String planes) {

    /** Smallest input for which every ResNet stage still has a non-empty feature map. */
    public static final int MIN_INPUT_SIZE = 32;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    public ModelMetadata {
        requireText(name, "name");
        requireText(version, "version");
        Objects.requireNonNull(backbone, "backbone");
        Objects.requireNonNull(createdAt, "createdAt");
        if (inputSize < MIN_INPUT_SIZE) {
            throw new IllegalArgumentException("inputSize must be >= " + MIN_INPUT_SIZE + ", got " + inputSize);
        }
        if (embeddingSize <= 0) {
            throw new IllegalArgumentException("embeddingSize must be > 0, got " + embeddingSize);
        }
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new IllegalArgumentException("threshold must be in [0,1], got " + threshold);
        }
        notes = notes == null ? "" : notes;
        inputView = inputView == null ? InputView.FULL : inputView;
        planes = planes == null || planes.isBlank() ? null : planes;
    }

    /** Metadata without a record of the planes (untrained weights, tests). */
    public ModelMetadata(String name, String version, Backbone backbone, int inputSize, int embeddingSize,
                         double threshold, long seed, boolean trained, Instant createdAt, String notes,
                         InputView inputView) {
        this(name, version, backbone, inputSize, embeddingSize, threshold, seed, trained, createdAt, notes, inputView,
                null);
    }

    /** Whether this model scores planes with these contents: those it was trained on, or any when it records none. */
    public boolean takesPlanes(String contents) {
        return planes == null || planes.equals(contents);
    }

    public ModelMetadata withThreshold(double newThreshold) {
        return new ModelMetadata(name, version, backbone, inputSize, embeddingSize, newThreshold, seed, trained,
                createdAt, notes, inputView, planes);
    }

    public ModelMetadata withTrained(boolean isTrained, String newNotes) {
        return new ModelMetadata(name, version, backbone, inputSize, embeddingSize, threshold, seed, isTrained,
                createdAt, newNotes, inputView, planes);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise model metadata", e);
        }
    }

    public static ModelMetadata fromJson(String json) throws IOException {
        return JSON.readValue(json, ModelMetadata.class);
    }

    static ModelMetadata read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), ModelMetadata.class);
    }

    void write(Path file) throws IOException {
        JSON.writeValue(file.toFile(), this);
    }

    private static void requireText(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + " must not be blank");
        }
    }
}
