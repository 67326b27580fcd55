package org.cxrtriage.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import com.fasterxml.jackson.core.JacksonException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A lung U-Net directory: {@value #METADATA_FILE} and the DJL weights {@code lung-unet-0000.params}. Kept apart
 * from the classifier's {@link ModelDirectory} (different file names), so neither loads the other by mistake.
 */
public final class LungModelDirectory {
    public static final String METADATA_FILE = "lung-model.json";
    public static final String WEIGHTS_PREFIX = "lung-unet";
    /** Weights are initialised under the same lock as the classifier's: the engine RNG is process-global. */
    private static final Object SEED_LOCK = new Object();

    private LungModelDirectory() {}

    /** The loaded network and its metadata; closing it frees the weights. */
    public record Loaded(Model model, LungModelMetadata metadata) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    static Shape inputShape(int batch, int size) {
        return new Shape(batch, 1, size, size);
    }

    /** A fresh seeded network (He-normal weights), parameters trainable. */
    public static Loaded initialise(LungModelMetadata metadata, Device device) {
        LungUnet block = new LungUnet(metadata.baseWidth(), metadata.levels());
        block.setInitializer(new XavierInitializer(XavierInitializer.RandomType.GAUSSIAN,
                XavierInitializer.FactorType.IN, 2), Parameter.Type.WEIGHT);
        Model model = Model.newInstance(metadata.name(), device, TorchRuntime.ENGINE);
        try {
            model.setBlock(block);
            synchronized (SEED_LOCK) {
                TorchRuntime.engine().setRandomSeed(Long.hashCode(metadata.seed()));
                block.initialize(model.getNDManager(), DataType.FLOAT32, inputShape(1, metadata.inputSize()));
            }
            return new Loaded(model, metadata);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Writes the weights (as epoch 0), then the metadata, replacing what was there. */
    public static void save(Path dir, Model model, LungModelMetadata metadata) throws IOException {
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve(WEIGHTS_PREFIX + "-0000.params"));
        model.setProperty("Epoch", "0");
        model.save(dir, WEIGHTS_PREFIX);
        metadata.write(dir.resolve(METADATA_FILE));
    }

    public static LungModelMetadata readMetadata(Path dir) throws IOException {
        Path file = dir.resolve(METADATA_FILE);
        if (!Files.isRegularFile(file)) {
            throw new InvalidModelException("lung model directory " + dir.toAbsolutePath() + " has no " + METADATA_FILE);
        }
        try {
            return LungModelMetadata.read(file);
        } catch (JacksonException e) {
            throw new InvalidModelException("cannot read " + file + ": " + e.getOriginalMessage(), e);
        }
    }

    /** DJL takes parameter shapes from the file: compare them with the architecture the metadata describes. */
    private static void checkShapes(Model model, LungModelMetadata metadata, Path dir) throws InvalidModelException {
        LungUnet expected = new LungUnet(metadata.baseWidth(), metadata.levels());
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), TorchRuntime.ENGINE)) {
            expected.initialize(m, DataType.FLOAT32, inputShape(1, 1 << (metadata.levels() - 1)));
            var want = expected.getParameters();
            var have = model.getBlock().getParameters();
            boolean same = want.size() == have.size();
            for (int i = 0; same && i < want.size(); i++) {
                same = want.get(i).getKey().equals(have.get(i).getKey())
                        && want.valueAt(i).getArray().getShape().equals(have.valueAt(i).getArray().getShape());
            }
            if (!same) {
                throw new InvalidModelException("lung U-Net weights in " + dir + " do not match " + METADATA_FILE
                        + " (baseWidth=" + metadata.baseWidth() + ", levels=" + metadata.levels() + ")");
            }
        }
    }

    /** Loads for inference (parameters frozen) and checks the output shape on a probe input. */
    public static Loaded load(Path dir, Device device) throws IOException {
        LungModelMetadata metadata = readMetadata(dir);
        TorchRuntime.engine(); // marks the engine started: thread settings are fixed from here on
        Model model = Model.newInstance(metadata.name(), device, TorchRuntime.ENGINE);
        try {
            model.setBlock(new LungUnet(metadata.baseWidth(), metadata.levels()));
            try {
                model.load(dir, WEIGHTS_PREFIX);
            } catch (MalformedModelException | IOException | RuntimeException e) {
                throw new InvalidModelException("lung U-Net weights in " + dir + " do not match " + METADATA_FILE
                        + " (baseWidth=" + metadata.baseWidth() + ", levels=" + metadata.levels()
                        + ") or are missing/corrupt: " + e.getMessage(), e);
            }
            model.getBlock().freezeParameters(true);
            checkShapes(model, metadata, dir);
            int probe = 1 << (metadata.levels() - 1);
            try (NDManager m = model.getNDManager().newSubManager()) {
                Shape out = model.getBlock().forward(new ParameterStore(m, false),
                        new NDList(m.zeros(inputShape(2, probe))), false).singletonOrThrow().getShape();
                if (!out.equals(inputShape(2, probe))) {
                    throw new InvalidModelException("lung U-Net in " + dir + " gives " + out + " for " + inputShape(2, probe));
                }
            }
            return new Loaded(model, metadata);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }
}
