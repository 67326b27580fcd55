package org.cxrtriage.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import com.fasterxml.jackson.core.JacksonException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A model directory holds {@value #METADATA_FILE} and the DJL weights {@code model-NNNN.params}
 * (NNNN = epoch; the highest one is loaded). Static helpers to create, save and load one.
 */
public final class ModelDirectory {
    public static final String METADATA_FILE = "model.json";
    public static final String WEIGHTS_PREFIX = "model";
    public static final double DEFAULT_THRESHOLD = 0.5;

    private static final Pattern WEIGHTS_FILE = Pattern.compile(Pattern.quote(WEIGHTS_PREFIX) + "-\\d{4}\\.params");
    /** Small but deep enough for every ResNet stage; only used to check output shapes after loading. */
    private static final int PROBE_SIZE = 64;
    /** Batch 2, not 1: libtorch 2.7 logs an NNPACK warning per conv for batch-1 CPU convs on some CPUs. */
    private static final int PROBE_BATCH = 2;
    /** Engine RNG is process-global: serialise seeded initialisations so they stay deterministic. */
    private static final Object SEED_LOCK = new Object();

    private ModelDirectory() {}

    /**
     * Initialises an untrained network from {@code seed} and writes it to {@code dir} (created if needed).
     * Weights are always initialised on the CPU so the same seed gives the same file on any machine.
     */
    public static ModelMetadata createSeeded(Path dir, Backbone backbone, int inputSize, int embeddingSize,
            long seed, String name, String version) throws IOException {
        ModelMetadata metadata = new ModelMetadata(name, version, backbone, inputSize, embeddingSize,
                DEFAULT_THRESHOLD, seed, false, Instant.now().truncatedTo(ChronoUnit.MILLIS),
                "seeded initialisation, untrained", InputView.FULL);
        try (LoadedModel model = initialise(metadata, Device.cpu())) {
            save(dir, model.model(), metadata);
        }
        return metadata;
    }

    /**
     * A fresh network for {@code metadata}, weights drawn from {@code metadata.seed()} (He/Xavier-in
     * Gaussian for weights, zeros for biases, BatchNorm gamma 1 / beta 0). Parameters require gradients,
     * ready for a trainer.
     */
    public static LoadedModel initialise(ModelMetadata metadata, Device device) {
        Block block = CxrNetworkFactory.build(metadata.backbone(), metadata.embeddingSize());
        // Explicit rather than relying on DJL's default, so a DJL upgrade cannot change seeded weights.
        block.setInitializer(new XavierInitializer(XavierInitializer.RandomType.GAUSSIAN,
                XavierInitializer.FactorType.IN, 2), Parameter.Type.WEIGHT);
        Model model = Model.newInstance(metadata.name(), device, TorchRuntime.ENGINE);
        try {
            model.setBlock(block);
            synchronized (SEED_LOCK) {
                // DJL takes an int seed; fold the long so every bit of it matters.
                TorchRuntime.engine().setRandomSeed(Long.hashCode(metadata.seed()));
                block.initialize(model.getNDManager(), DataType.FLOAT32, inputShape(1, metadata.inputSize()));
            }
            return new LoadedModel(model, metadata, null);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Writes the weights, then {@value #METADATA_FILE} (so a present model.json means complete weights). */
    public static void save(Path dir, Model model, ModelMetadata metadata) throws IOException {
        Files.createDirectories(dir);
        model.save(dir, WEIGHTS_PREFIX);
        metadata.write(dir.resolve(METADATA_FILE));
    }

    public static ModelMetadata readMetadata(Path dir) throws IOException {
        requireDirectory(dir);
        Path file = dir.resolve(METADATA_FILE);
        if (!Files.isRegularFile(file)) {
            throw new InvalidModelException("model directory " + dir + " has no " + METADATA_FILE);
        }
        try {
            return ModelMetadata.read(file);
        } catch (JacksonException e) {
            throw new InvalidModelException("cannot read " + file + ": " + e.getOriginalMessage(), e);
        }
    }

    /** Loads onto {@link TorchRuntime#defaultDevice()} (GPU if present), in the trained form. */
    public static LoadedModel load(Path dir) throws IOException {
        return load(dir, TorchRuntime.defaultDevice());
    }

    /**
     * Loads in the inference form, with BatchNorm folded into the convolutions ({@link BatchNormFolding}): what the
     * inference service, the evaluation and the benchmark run. Not trainable and not for {@link #save}.
     */
    public static LoadedModel loadForInference(Path dir, Device device) throws IOException {
        try (LoadedModel trained = load(dir, device)) {
            LoadedModel folded = BatchNormFolding.fold(trained);
            try {
                checkOutputShapes(folded.model(), folded.metadata(), dir);
                return folded;
            } catch (InvalidModelException | RuntimeException e) {
                folded.close();
                throw e;
            }
        }
    }

    /**
     * Loads in the trained form, for inference or for a trainer: parameters are frozen (no autograd graph is
     * recorded). A trainer that wants to continue from these weights calls {@code model().getBlock().freezeParameters(false)}.
     */
    public static LoadedModel load(Path dir, Device device) throws IOException {
        ModelMetadata metadata = readMetadata(dir);
        Path weights = weightsFile(dir).orElseThrow(() -> new InvalidModelException(
                "model directory " + dir + " has no weights file " + WEIGHTS_PREFIX + "-NNNN.params"));
        Model model = Model.newInstance(metadata.name(), device, TorchRuntime.ENGINE);
        try {
            model.setBlock(CxrNetworkFactory.build(metadata.backbone(), metadata.embeddingSize()));
            try {
                model.load(dir, WEIGHTS_PREFIX);
            } catch (MalformedModelException | IOException | RuntimeException e) {
                throw new InvalidModelException("weights " + weights + " do not match " + METADATA_FILE
                        + " (backbone=" + metadata.backbone() + ", embeddingSize=" + metadata.embeddingSize()
                        + ") or are corrupt: " + e.getMessage(), e);
            }
            model.getBlock().freezeParameters(true);
            checkOutputShapes(model, metadata, weights);
            return new LoadedModel(model, metadata, dir);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** The weights file with the highest epoch, if any. */
    public static Optional<Path> weightsFile(Path dir) throws IOException {
        requireDirectory(dir);
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> WEIGHTS_FILE.matcher(p.getFileName().toString()).matches())
                    .filter(Files::isRegularFile)
                    .max(java.util.Comparator.comparing(p -> p.getFileName().toString()));
        }
    }

    static Shape inputShape(int batch, int size) {
        return new Shape(batch, InputEncoder.CHANNELS, size, size);
    }

    private static void requireDirectory(Path dir) throws InvalidModelException {
        if (!Files.isDirectory(dir)) {
            throw new InvalidModelException("model directory does not exist: " + dir.toAbsolutePath());
        }
    }

    /** Weight shapes come from the file, so e.g. another embedding size loads fine; catch it here. */
    private static void checkOutputShapes(Model model, ModelMetadata metadata, Path weights)
            throws InvalidModelException {
        Shape[] actual;
        try (NDManager manager = model.getNDManager().newSubManager()) {
            NDList out = model.getBlock().forward(new ParameterStore(manager, false),
                    new NDList(manager.zeros(inputShape(PROBE_BATCH, PROBE_SIZE))), false);
            actual = out.getShapes();
        } catch (RuntimeException e) {
            throw new InvalidModelException("weights " + weights + " do not fit " + metadata.backbone() + ": "
                    + e.getMessage(), e);
        }
        Shape logits = new Shape(PROBE_BATCH, CxrNetworkFactory.NUM_CLASSES);
        Shape embedding = new Shape(PROBE_BATCH, metadata.embeddingSize());
        if (actual.length != 2 || !actual[0].equals(logits) || !actual[1].equals(embedding)) {
            throw new InvalidModelException("weights " + weights + " give outputs " + java.util.Arrays.toString(actual)
                    + " but " + METADATA_FILE + " expects " + logits + " and " + embedding);
        }
    }
}
