package org.cxrtriage.ingest;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import org.cxrtriage.common.ServiceRunner;
import org.cxrtriage.common.Settings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the ingest HTTP service until stopped, or with {@code --folder DIR} streams every image of a folder (metadata
 * from a manifest CSV when there is one) and exits. Configuration: environment variables (README).
 */
@Command(name = "ingest-service", mixinStandardHelpOptions = true,
        description = "Accept chest X-rays over HTTP (default) or stream a folder of them onto cxr.images.")
public final class IngestMain implements Callable<Integer> {

    @Option(names = "--folder", description = "Stream every image of this folder, then exit.")
    Path folder;

    @Option(names = "--manifest", description = "Manifest CSV (default: manifest.csv in or above the folder).")
    Path manifest;

    public static void main(String[] args) {
        System.exit(new CommandLine(new IngestMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Settings settings = Settings.fromEnv();
        if (folder == null) {
            ServiceRunner.runUntilStopped(new IngestService(settings));
            return 0;
        }
        Optional<Path> m = manifest != null ? Optional.of(manifest) : FolderSource.findManifest(folder);
        List<FolderSource.Item> items = FolderSource.list(folder, m);
        try (IngestService ingest = new IngestService(settings.with("HTTP_PORT", "0"))) {
            ingest.start();
            AtomicInteger done = new AtomicInteger();
            List<FolderIngest.Outcome> outcomes = new FolderIngest(ingest).send(items, o -> {
                int n = done.incrementAndGet();
                if (n % 50 == 0 || n == items.size()) {
                    System.err.printf("ingest: %d/%d%n", n, items.size());
                }
            });
            long accepted = outcomes.stream().filter(FolderIngest.Outcome::isAccepted).count();
            outcomes.stream().filter(o -> !o.isAccepted()).forEach(o -> System.out.printf("%s %s: %s (%s)%n",
                    o.rejection().httpStatus() >= 500 ? "not stored or not confirmed" : "refused",
                    o.item().file().getFileName(), o.rejection().reasonCode(), o.rejection().getMessage()));
            long notStored = outcomes.stream().filter(o -> !o.isAccepted() && o.rejection().httpStatus() >= 500)
                    .count();
            System.out.printf("%d image(s) sent, %d accepted, %d refused, %d not stored or not confirmed%n",
                    items.size(), accepted, items.size() - accepted - notStored, notStored);
            return accepted == items.size() ? 0 : 3;
        }
    }
}
