package org.cxrtriage.ingest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.cxrtriage.schemas.ImageReceived;

/** Streams every image of a folder through an {@link IngestService}, keeping many sends in flight. */
public final class FolderIngest {

    /** What happened to one file. Exactly one of {@code accepted} / {@code rejection} is set. */
    public record Outcome(FolderSource.Item item, ImageReceived accepted, IngestRejection rejection) {
        public boolean isAccepted() {
            return accepted != null;
        }
    }

    private final IngestService ingest;

    public FolderIngest(IngestService ingest) {
        this.ingest = ingest;
    }

    /**
     * Sends the items; returns once the broker has acknowledged every accepted one.
     *
     * @param progress called after each file is validated (accepted or rejected)
     */
    public List<Outcome> send(List<FolderSource.Item> items, Consumer<Outcome> progress) {
        List<CompletableFuture<Outcome>> pending = new ArrayList<>();
        for (FolderSource.Item item : items) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(item.file());
            } catch (IOException e) {
                Outcome o = new Outcome(item, null, new IngestRejection(400, "UNREADABLE_FILE", e.toString()));
                progress.accept(o);
                pending.add(CompletableFuture.completedFuture(o));
                continue;
            }
            try {
                CompletableFuture<Outcome> f = ingest.submitAsync(item.metadata(), contentTypeOf(item.file()), bytes)
                        .thenApply(event -> new Outcome(item, event, null));
                f.thenAccept(progress);
                pending.add(f);
            } catch (IngestRejection r) {
                Outcome o = new Outcome(item, null, r);
                progress.accept(o);
                pending.add(CompletableFuture.completedFuture(o));
            }
        }
        ingest.flush();
        return pending.stream().map(CompletableFuture::join).toList();
    }

    /** The content type ingest expects for a file of this name; null when the name says nothing we take. */
    public static String contentTypeOf(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".png")) {
            return "image/png";
        }
        if (n.endsWith(".jpg") || n.endsWith(".jpeg")) {
            return "image/jpeg";
        }
        if (n.endsWith(".tif") || n.endsWith(".tiff")) {
            return "image/tiff";
        }
        return null;
    }
}
