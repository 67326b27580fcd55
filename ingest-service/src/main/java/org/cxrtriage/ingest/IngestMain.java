package org.cxrtriage.ingest;

import org.cxrtriage.common.ServiceRunner;
import org.cxrtriage.common.Settings;

/** Runs the ingest HTTP service until the process is stopped. Configuration: environment variables (README). */
public final class IngestMain {
    private IngestMain() {
    }

    public static void main(String[] args) throws Exception {
        ServiceRunner.runUntilStopped(new IngestService(Settings.fromEnv()));
    }
}
