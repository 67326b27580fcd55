package org.cxrtriage.trainer;

import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code train} and {@code evaluate} the CXR classifier offline. */
@Command(name = "cxr-trainer", mixinStandardHelpOptions = true,
        subcommands = {TrainCommand.class, EvaluateCommand.class, CompareCommand.class, TrainLungsCommand.class,
                EvaluateLungsCommand.class},
        description = "Train and evaluate the CXR triage classifier and the lung U-Net (DJL, PyTorch on CPU).")
public final class TrainerCli implements Runnable {
    static final String MANIFEST_ENV = "CXR_MANIFEST";
    static final String DEFAULT_MANIFEST = "../shared/data/cxr/manifest.csv";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return new CommandLine(new TrainerCli()).execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** --manifest, else $CXR_MANIFEST, else ../shared/data/cxr/manifest.csv (relative to the repo root). */
    static Path manifestPath(Path option) {
        if (option != null) {
            return option;
        }
        String env = System.getenv(MANIFEST_ENV);
        return Path.of(env != null && !env.isBlank() ? env : DEFAULT_MANIFEST);
    }
}
