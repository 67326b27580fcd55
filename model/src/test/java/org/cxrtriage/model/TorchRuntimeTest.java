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
    void refusesANonPositiveCount() {
        assertThrows(IllegalArgumentException.class, () -> TorchRuntime.switchIntraOpThreads(0));
    }
}
