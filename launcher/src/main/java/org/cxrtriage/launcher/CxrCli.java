package org.cxrtriage.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Command-line entry point: {@code cxr run --images DIR}. */
@Command(name = "cxr", mixinStandardHelpOptions = true, version = "cxr-triage-stream 0.1.0",
        description = "CXR Triage Stream: COVID-19 scoring, similar prior cases and alerts for chest X-rays.",
        subcommands = {RunCommand.class, SendCommand.class, RetractCommand.class, BenchCommand.class,
                PreprocessBenchCommand.class, IndexBenchCommand.class, FaultsCommand.class, ModelBenchCommand.class})
public final class CxrCli {

    public static void main(String[] args) {
        System.exit(new CommandLine(new CxrCli()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }
}
