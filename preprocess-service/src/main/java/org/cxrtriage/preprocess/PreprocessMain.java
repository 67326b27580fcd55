package org.cxrtriage.preprocess;

import org.cxrtriage.common.ServiceRunner;
import org.cxrtriage.common.Settings;

/** Runs the preprocessing stream until the process is stopped. Configuration: environment variables (README). */
public final class PreprocessMain {
    private PreprocessMain() {
    }

    public static void main(String[] args) throws Exception {
        ServiceRunner.runUntilStopped(new PreprocessService(Settings.fromEnv()));
    }
}
