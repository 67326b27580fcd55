package org.cxrtriage.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Shared fixtures: small inputs keep the forward passes cheap on 2 cores. */
final class TestModels {
    static final int SIZE = 64;

    private TestModels() {}

    /** Both cores for the one test thread; same values in every test class so the order does not matter. */
    static void init() {
        TorchRuntime.configureThreads(2, 1);
    }

    static ModelInput randomInput(int size, long seed) {
        Random random = new Random(seed);
        byte[] cxr = new byte[size * size];
        byte[] lung = new byte[size * size];
        random.nextBytes(cxr);
        random.nextBytes(lung);
        return new ModelInput(size, cxr, lung);
    }

    static List<ModelInput> randomInputs(int count, int size, long seed) {
        List<ModelInput> inputs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            inputs.add(randomInput(size, seed + i));
        }
        return inputs;
    }
}
