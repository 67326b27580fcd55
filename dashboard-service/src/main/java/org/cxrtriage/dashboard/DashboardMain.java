package org.cxrtriage.dashboard;

import org.cxrtriage.common.ServiceRunner;
import org.cxrtriage.common.Settings;

/** Runs the dashboard until the process is stopped. Configuration: environment variables (README). */
public final class DashboardMain {
    private DashboardMain() {
    }

    public static void main(String[] args) throws Exception {
        ServiceRunner.runUntilStopped(new DashboardService(Settings.fromEnv()));
    }
}
