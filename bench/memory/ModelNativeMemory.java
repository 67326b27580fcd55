import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.cxrtriage.model.CxrPredictor;
import org.cxrtriage.model.LoadedModel;
import org.cxrtriage.model.ModelDirectory;
import org.cxrtriage.model.ModelInput;
import org.cxrtriage.model.TorchRuntime;

/**
 * Does the forward pass alone hold on to native memory? Runs CALLS predictions on a worker thread, as the inference
 * service does, and prints resident memory minus the JVM heap every 500 calls. Run it with a fixed, pre-touched heap,
 * so that the difference is native memory only (single-file source launch, after a build):
 *
 * <pre>
 * java -Xms256m -Xmx256m -XX:+AlwaysPreTouch -cp "launcher/target/lib/*" bench/memory/ModelNativeMemory.java \
 *     [mixed|single] [CALLS] [MODEL_DIR]
 * </pre>
 * {@code mixed}: batches of 1 to 4 at random (every batch shape); {@code single}: one image per call (low load).
 */
public final class ModelNativeMemory {

    private static long rssMb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "mixed";
        int calls = args.length > 1 ? Integer.parseInt(args[1]) : 4000;
        Path dir = Path.of(args.length > 2 ? args[2] : "models/default");
        TorchRuntime.configureThreads(Math.max(1, Runtime.getRuntime().availableProcessors()), 1);
        try (LoadedModel model = ModelDirectory.loadForInference(dir, TorchRuntime.defaultDevice())) {
            Thread worker = new Thread(() -> run(model, mode, calls), "inference-worker");
            worker.start();
            worker.join();
        }
    }

    private static void run(LoadedModel model, String mode, int calls) {
        try (CxrPredictor predictor = new CxrPredictor(model, 4)) {
            predictor.warmUp();
            int size = model.metadata().inputSize();
            Random random = new Random(1);
            long since = System.nanoTime();
            for (int i = 1; i <= calls; i++) {
                int count = mode.equals("mixed") ? 1 + random.nextInt(4) : 1;
                List<ModelInput> inputs = new ArrayList<>();
                for (int k = 0; k < count; k++) {
                    byte[] plane = new byte[size * size];
                    random.nextBytes(plane);
                    inputs.add(new ModelInput(size, plane, plane));
                }
                predictor.predict(inputs);
                if (i % 500 == 0) {
                    long rss = rssMb();
                    long now = System.nanoTime();
                    long nativeMb = rss - Runtime.getRuntime().totalMemory() / (1024 * 1024);
                    System.out.printf("%s %5d calls: RSS %d MB, native (RSS - heap) %d MB, %.1f ms per call%n", mode,
                            i, rss, nativeMb, (now - since) / 500 / 1e6);
                    since = now;
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
