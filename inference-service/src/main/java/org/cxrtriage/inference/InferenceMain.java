package org.cxrtriage.inference;

import org.cxrtriage.common.ServiceRunner;
import org.cxrtriage.common.Settings;

/** Runs the inference consumers until the process is stopped. Configuration: environment variables (README). */
public final class InferenceMain {
    private InferenceMain() {
    }

    public static void main(String[] args) throws Exception {
        ServiceRunner.runUntilStopped(new InferenceService(Settings.fromEnv()));
    }
}
