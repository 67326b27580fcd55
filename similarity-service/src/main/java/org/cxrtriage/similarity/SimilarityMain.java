package org.cxrtriage.similarity;

import org.cxrtriage.common.ServiceRunner;
import org.cxrtriage.common.Settings;

/** Runs the similarity service until the process is stopped. Configuration: environment variables (README). */
public final class SimilarityMain {
    private SimilarityMain() {
    }

    public static void main(String[] args) throws Exception {
        ServiceRunner.runUntilStopped(new SimilarityService(Settings.fromEnv()));
    }
}
