package org.cxrtriage.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.Test;

class TorchRuntimeTest {

    @Test
    void switchIntraOpThreadsChangesThisThreadsCountAndReturnsTheOldOne() {
        int original = TorchRuntime.switchIntraOpThreads(1);
        try {
            assertEquals(1, JniUtils.getNumThreads());
            assertEquals(1, TorchRuntime.switchIntraOpThreads(2));
            assertEquals(2, JniUtils.getNumThreads());
        } finally {
            TorchRuntime.switchIntraOpThreads(original);
        }
        assertEquals(original, JniUtils.getNumThreads());
    }

    @Test
    void eachThreadKeepsTheCountItSet() throws Exception {
        int original = TorchRuntime.switchIntraOpThreads(2);
        try {
            int[] other = new int[1];
            Thread t = new Thread(() -> {
                TorchRuntime.useIntraOpThreadsOnThisThread(1);
                other[0] = JniUtils.getNumThreads();
            });
            t.start();
            t.join();
            assertEquals(1, other[0]);
            assertEquals(2, JniUtils.getNumThreads(), "another thread's count must not change this one's");
        } finally {
            TorchRuntime.switchIntraOpThreads(original);
        }
    }

    @Test
    void refusesANonPositiveCount() {
        assertThrows(IllegalArgumentException.class, () -> TorchRuntime.switchIntraOpThreads(0));
    }
}
