package org.cxrtriage.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;

/**
 * Describes a lung U-Net directory; stored as {@value LungModelDirectory#METADATA_FILE}.
 *
 * @param inputSize side of the square plane the network was trained on (planes of another size are resized)
 * @param baseWidth channels of the first U-Net level
 * @param levels    resolution levels including the bottleneck
 * @param seed      seed of the initial weights and of the training run
 * @param trained   false for freshly initialised weights
 * @param testDice  mean Dice on the held-out hand-drawn masks at {@code inputSize}, NaN when not measured
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LungModelMetadata(
        String name,
        String version,
        int inputSize,
        int baseWidth,
        int levels,
        long seed,
        boolean trained,
        double testDice,
        Instant createdAt,
        String notes) {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    public LungModelMetadata {
        if (name == null || name.isBlank() || version == null || version.isBlank()) {
            throw new IllegalArgumentException("name and version must not be blank");
        }
        Objects.requireNonNull(createdAt, "createdAt");
        if (baseWidth < 1 || levels < 2 || inputSize < (1 << (levels - 1)) || inputSize % (1 << (levels - 1)) != 0) {
            throw new IllegalArgumentException("invalid U-Net shape: inputSize=" + inputSize + " baseWidth="
                    + baseWidth + " levels=" + levels + " (inputSize must be a multiple of 2^(levels-1))");
        }
        notes = notes == null ? "" : notes;
    }

    /** {@code name:version}, recorded with every tensor as the lung model that made its lung plane. */
    public String id() {
        return name + ":" + version;
    }

    public LungModelMetadata withResult(boolean isTrained, double dice, String newNotes) {
        return new LungModelMetadata(name, version, inputSize, baseWidth, levels, seed, isTrained, dice, createdAt,
                newNotes);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise lung model metadata", e);
        }
    }

    static LungModelMetadata read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), LungModelMetadata.class);
    }

    void write(Path file) throws IOException {
        JSON.writeValue(file.toFile(), this);
    }
}
