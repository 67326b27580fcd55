package org.cxrtriage.imaging;

import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The stress run behind {@link ClaheTest#survivesGarbageCollectionDuringNativeCalls}: two threads run CLAHE on 256 px
 * images, as the preprocess service's stream threads do, while a third makes garbage so that young collections come
 * every few milliseconds (run it with a small young generation, e.g. {@code -Xmx64m -Xmn2m}). Exits 0 after SECONDS
 * when no call failed, 1 when one threw (OpenCV finding the fields of a freed object garbage, e.g. "0 <= _dims"); a
 * crash kills the JVM (134). Without the reachability fence in {@link Clahe} it crashed within 8 s here, in
 * CLAHE_Interpolation_Body as the preprocess service did.
 */
final class ClaheFinalizerStress {
    static final int SIDE = 256;

    private ClaheFinalizerStress() {}

    public static void main(String[] args) throws Exception {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 15;
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        AtomicLong calls = new AtomicLong();
        AtomicLong failures = new AtomicLong();
        Thread[] workers = new Thread[2];
        for (int t = 0; t < workers.length; t++) {
            long seed = t;
            workers[t] = new Thread(() -> {
                Random random = new Random(seed);
                byte[] samples = new byte[SIDE * SIDE];
                random.nextBytes(samples);
                GrayImage image = GrayImage.fromUint8(SIDE, SIDE, samples);
                while (System.nanoTime() < end) {
                    try {
                        Clahe.apply(image);
                    } catch (RuntimeException e) {
                        failures.incrementAndGet();
                        System.out.println("failed: " + e.getMessage().lines().findFirst().orElse(""));
                    }
                    calls.incrementAndGet();
                }
            }, "clahe-" + t);
            workers[t].start();
        }
        Thread garbage = new Thread(() -> {
            long sink = 0;
            while (System.nanoTime() < end) {
                sink += new byte[64 * 1024].length;
            }
        }, "garbage");
        garbage.start();
        for (Thread w : workers) {
            w.join();
        }
        garbage.join();
        System.out.println(calls.get() + " CLAHE calls, " + failures.get() + " failed");
        System.exit(failures.get() == 0 ? 0 : 1);
    }
}
