package org.cxrtriage.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The one place that picks the DJL engine and its CPU threads.
 *
 * <p>PyTorch reads {@code ai.djl.pytorch.num_threads} (intra-op: threads one forward pass may use) and
 * {@code ai.djl.pytorch.num_interop_threads} once, when the engine starts, and they apply process-wide.
 * With W inference workers on C cores, {@code intraOp = max(1, C / W)} avoids oversubscription; inter-op
 * threads only serve TorchScript forks, so 1 is enough. Call {@link #configureThreads} before anything
 * touches DJL; if neither it nor the system properties are set, PyTorch uses all cores per forward pass.
 */
public final class TorchRuntime {
    public static final String ENGINE = "PyTorch";
    static final String INTRA_OP_PROPERTY = "ai.djl.pytorch.num_threads";
    static final String INTER_OP_PROPERTY = "ai.djl.pytorch.num_interop_threads";

    private static volatile boolean started;
    /** The intra-op count this thread last set (0: never set here, the process-wide value applies). */
    private static final ThreadLocal<int[]> THREAD_INTRA_OP = ThreadLocal.withInitial(() -> new int[1]);

    private TorchRuntime() {}

    /**
     * Sets the thread counts for the engine start. Calling again with the same values is a no-op; with other
     * values after the engine started it fails, because PyTorch would silently ignore them.
     */
    public static synchronized void configureThreads(int intraOp, int interOp) {
        if (intraOp <= 0 || interOp <= 0) {
            throw new IllegalArgumentException("thread counts must be > 0, got " + intraOp + "/" + interOp);
        }
        String intra = Integer.toString(intraOp);
        String inter = Integer.toString(interOp);
        if (started) {
            if (!intra.equals(System.getProperty(INTRA_OP_PROPERTY))
                    || !inter.equals(System.getProperty(INTER_OP_PROPERTY))) {
                throw new IllegalStateException("PyTorch already started with intra-op="
                        + System.getProperty(INTRA_OP_PROPERTY) + ", inter-op="
                        + System.getProperty(INTER_OP_PROPERTY) + "; configure threads before first use");
            }
            return;
        }
        System.setProperty(INTRA_OP_PROPERTY, intra);
        System.setProperty(INTER_OP_PROPERTY, inter);
    }

    /**
     * For a component that shares the process with others (the preprocess service's lung U-Net beside the inference
     * service in one JVM): sets the thread counts only if nobody configured them and the engine has not started.
     *
     * @return the intra-op thread count in force (as configured), or 0 when PyTorch's own default applies
     */
    public static synchronized int configureThreadsIfUnset(int intraOp, int interOp) {
        if (!started && System.getProperty(INTRA_OP_PROPERTY) == null && System.getProperty(INTER_OP_PROPERTY) == null) {
            configureThreads(intraOp, interOp);
        }
        String intra = System.getProperty(INTRA_OP_PROPERTY);
        return intra == null ? 0 : Integer.parseInt(intra);
    }

    /**
     * Changes the intra-op thread count after the engine started, for work that runs on the calling thread: PyTorch
     * (OpenMP) applies it to this thread and to threads that first use PyTorch afterwards, not to threads that already
     * did. The benchmark uses it to time the preprocessing and the model on one thread, each with its own service's
     * setting.
     *
     * @return the count in force on this thread before the change
     */
    public static synchronized int switchIntraOpThreads(int intraOp) {
        if (intraOp <= 0) {
            throw new IllegalArgumentException("thread count must be > 0, got " + intraOp);
        }
        engine();
        int before = JniUtils.getNumThreads();
        JniUtils.setNumThreads(intraOp);
        THREAD_INTRA_OP.get()[0] = intraOp;
        return before;
    }

    /**
     * Makes forward passes on the calling thread use {@code intraOp} threads, whatever another component of the
     * process configured (the launcher runs the preprocess service's 1-thread lung U-Net beside the inference
     * service's 2-thread model). Cheap after the first call on a thread. A thread that never calls it gets the
     * count last set anywhere in the process when it first uses PyTorch, so every component that shares a process
     * and has its own count calls this on each of its threads.
     */
    public static void useIntraOpThreadsOnThisThread(int intraOp) {
        if (THREAD_INTRA_OP.get()[0] != intraOp) {
            switchIntraOpThreads(intraOp);
        }
    }

    /** The PyTorch engine (loads the native library on first call: seconds, once per process). */
    public static Engine engine() {
        Engine engine = Engine.getEngine(ENGINE);
        started = true;
        return engine;
    }

    /** GPU 0 if the engine sees one, else CPU. */
    public static Device defaultDevice() {
        return engine().defaultDevice();
    }
}
