import java.nio.ByteBuffer;
import java.nio.file.*;
import java.time.Instant;
import java.util.*;
import java.util.concurrent.*;
import org.cxrtriage.common.Settings;
import org.cxrtriage.preprocess.*;
import org.cxrtriage.schemas.ImageReceived;

/**
 * Whether this machine's two cores slow each other down: the stream's preprocessing (decode, normalise, lung U-Net on
 * one PyTorch thread) per image on one thread alone, then on two threads at once, each with its own factory; then an
 * integer multiply loop the same way. A factor near 1 means two busy cores each run at single-core speed, so the
 * benchmark's one-thread preprocessing limit is not inflated by the other core being idle while it is timed.
 *
 * <pre>
 * java -Dai.djl.offline=true -cp "launcher/target/launcher-0.1.0-SNAPSHOT.jar:launcher/target/lib/*" \
 *     bench/cpu/TwoThreads.java 40 [folder of X-rays, default ../shared/data/cxr/images]
 * </pre>
 * 2026-11-26 23:51 - 2026-11-27 00:04, 2 cores (a slow evening), 40 images, 4 runs of 3 rounds: preprocessing took
 * 43-64 ms per image alone, and per thread ×0.84-1.35 of that with both threads at once (median ×1.13; 10 of 12 rounds
 * above 1); the integer loop ×0.95-1.09 (median ×1.00). So the cores do not share execution units, but memory-heavy
 * work (PNG decoding, CLAHE, the U-Net's convolutions) loses about a tenth of its speed, sometimes a third, when both
 * cores run it: caches or memory bandwidth shared on the host.
 */
public class TwoThreads {
    static ImageReceived image(byte[] b, int i) {
        return ImageReceived.newBuilder().setImageId("b" + i).setStudyId("s").setPatientRef("p").setSiteId("s")
                .setViewPosition("PA").setReceivedAt(Instant.now()).setContentType("image/png").setSha256("x")
                .setWidth(0).setHeight(0).setImageBytes(ByteBuffer.wrap(b)).build();
    }
    /** Mean wall time per image of preprocessing {@code imgs} one after the other. */
    static double run(TensorFactory f, List<byte[]> imgs) {
        long t = System.nanoTime();
        for (int i = 0; i < imgs.size(); i++) {
            f.process("b" + i, image(imgs.get(i), i));
        }
        return (System.nanoTime() - t) / 1e6 / imgs.size();
    }
    /** Wall time of an integer multiply-add chain of {@code n} steps (ALU only, no memory traffic). */
    static double spin(long n) {
        long t = System.nanoTime();
        long x = 1;
        for (long i = 0; i < n; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
        }
        if (x == 42) {
            System.out.print(""); // keeps the loop from being optimised away
        }
        return (System.nanoTime() - t) / 1e6;
    }
    public static void main(String[] a) throws Exception {
        int n = Integer.parseInt(a.length > 0 ? a[0] : "40");
        Path folder = Path.of(a.length > 1 ? a[1] : "../shared/data/cxr/images");
        List<Path> files = new ArrayList<>();
        try (var s = Files.list(folder)) {
            s.sorted().limit(n).forEach(files::add);
        }
        List<byte[]> imgs = new ArrayList<>();
        for (Path p : files) {
            imgs.add(Files.readAllBytes(p));
        }
        Settings settings = Settings.fromEnv();
        TensorFactory f1 = PreprocessService.tensorFactory(settings);
        TensorFactory f2 = PreprocessService.tensorFactory(settings);
        ExecutorService ex = Executors.newFixedThreadPool(2);
        // Warm up both factories (JIT, the U-Net's first passes) before timing.
        ex.submit(() -> run(f1, imgs.subList(0, Math.min(10, imgs.size())))).get();
        ex.submit(() -> run(f2, imgs.subList(0, Math.min(10, imgs.size())))).get();
        for (int rep = 0; rep < 3; rep++) {
            double alone = ex.submit(() -> run(f1, imgs)).get();
            Future<Double> x = ex.submit(() -> run(f1, imgs));
            Future<Double> y = ex.submit(() -> run(f2, imgs));
            double bx = x.get();
            double by = y.get();
            System.out.printf(Locale.ROOT, "preprocess: alone %.1f ms/image; two at once %.1f / %.1f ms/image (x%.2f)%n",
                    alone, bx, by, (bx + by) / 2 / alone);
            long steps = 400_000_000L;
            double s1 = ex.submit(() -> spin(steps)).get();
            Future<Double> s2a = ex.submit(() -> spin(steps));
            Future<Double> s2b = ex.submit(() -> spin(steps));
            System.out.printf(Locale.ROOT, "ALU loop: alone %.0f ms; two at once %.0f / %.0f ms (x%.2f)%n", s1,
                    s2a.get(), s2b.get(), (s2a.get() + s2b.get()) / 2 / s1);
        }
        ex.shutdown();
        System.exit(0);
    }
}
