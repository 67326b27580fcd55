package org.cxrtriage.ingest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.cxrtriage.schemas.ImageReceived;

/**
 * Streams every image of a folder through an {@link IngestService}, keeping many sends in flight. A send the broker
 * does not take (an outage, a delivery timeout) is tried again for a while, as a modality retries an upload; only a
 * file that still could not be stored then is reported so (NOT_STORED), never lost silently or fatal to the rest.
 */
public final class FolderIngest {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FolderIngest.class);

    /** What happened to one file. Exactly one of {@code accepted} / {@code rejection} is set. */
    public record Outcome(FolderSource.Item item, ImageReceived accepted, IngestRejection rejection) {
        public boolean isAccepted() {
            return accepted != null;
        }
    }

    /**
     * How long a file's sends are retried. An unacknowledged image is decided {@link IngestService#UNSETTLED_FOR}
     * after its claim (until then a copy is asked to come back), so this leaves room for that and for an outage.
     */
    public static final Duration RETRY_FOR = IngestService.UNSETTLED_FOR.plus(Duration.ofMinutes(5));

    private final IngestService ingest;
    private final Duration retryPause;
    private final Duration retryFor;

    public FolderIngest(IngestService ingest) {
        this(ingest, Duration.ofSeconds(2), RETRY_FOR);
    }

    FolderIngest(IngestService ingest, Duration retryPause, Duration retryFor) {
        this.ingest = ingest;
        this.retryPause = retryPause;
        this.retryFor = retryFor;
    }

    /**
     * Sends the items; returns once every file has its outcome (accepted ones acknowledged by the broker).
     *
     * @param progress called once per file with its outcome
     */
    public List<Outcome> send(List<FolderSource.Item> items, Consumer<Outcome> progress) {
        // A few threads: a retry may wait on the broker or look in the topic (ingest answers more lookups at once
        // with a quick "busy"), and one slow file must not hold up the others' retries.
        java.util.concurrent.atomic.AtomicInteger threads = new java.util.concurrent.atomic.AtomicInteger();
        ScheduledExecutorService retries = Executors.newScheduledThreadPool(4, r -> {
            Thread t = new Thread(r, "folder-ingest-retry-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            List<CompletableFuture<Outcome>> pending = new ArrayList<>();
            for (FolderSource.Item item : items) {
                CompletableFuture<Outcome> outcome = new CompletableFuture<>();
                outcome.thenAccept(progress);
                pending.add(outcome);
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(item.file());
                } catch (IOException e) {
                    outcome.complete(new Outcome(item, null, new IngestRejection(400, "UNREADABLE_FILE", e.toString())));
                    continue;
                }
                new Attempts(item, bytes, outcome, retries, System.nanoTime() + retryFor.toNanos()).next();
            }
            ingest.flush();
            return pending.stream().map(CompletableFuture::join).toList();
        } finally {
            retries.shutdownNow();
        }
    }

    /** The sends of one file, until one is acknowledged or refused for good, or the retry time is up. */
    private final class Attempts {
        private final FolderSource.Item item;
        private final byte[] bytes;
        private final CompletableFuture<Outcome> outcome;
        private final ScheduledExecutorService retries;
        private final long giveUpAt;
        /** The event of this file's last unacknowledged send: a 409 naming it means that send was stored after all. */
        private volatile ImageReceived unacknowledged;
        /** Why the last send failed: what the file's outcome says when the retry time runs out. */
        private volatile Throwable lastFailure;

        Attempts(FolderSource.Item item, byte[] bytes, CompletableFuture<Outcome> outcome,
                 ScheduledExecutorService retries, long giveUpAt) {
            this.item = item;
            this.bytes = bytes;
            this.outcome = outcome;
            this.retries = retries;
            this.giveUpAt = giveUpAt;
        }

        /** One more send, unless the retry time is up; never leaves the file without an outcome. */
        void next() {
            try {
                if (System.nanoTime() > giveUpAt) {
                    giveUp(lastFailure);
                    return;
                }
                attempt();
            } catch (Throwable unexpected) {
                failed(unexpected);
            }
        }

        private void attempt() {
            CompletableFuture<ImageReceived> sent;
            try {
                sent = ingest.submitAsync(item.metadata(), contentTypeOf(item.file()), bytes);
            } catch (DuplicateImage d) {
                if (unacknowledged != null && d.firstImageId().equals(unacknowledged.getImageId())) {
                    outcome.complete(new Outcome(item, unacknowledged, null)); // our earlier send was stored
                } else {
                    outcome.complete(new Outcome(item, null, d));
                }
                return;
            } catch (IngestRejection r) {
                if (r.httpStatus() >= 500) {
                    retryOrGiveUp(r, r.retryAfter());
                } else {
                    outcome.complete(new Outcome(item, null, r));
                }
                return;
            }
            sent.whenComplete((event, e) -> {
                try {
                    if (e == null) {
                        outcome.complete(new Outcome(item, event, null));
                        return;
                    }
                    Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                            ? e.getCause() : e;
                    if (cause instanceof UnacknowledgedImage u) {
                        cause = u.getCause();
                        if (!IngestService.certainlyNotWritten(cause)) {
                            unacknowledged = u.event(); // the broker may have it all the same
                        }
                    }
                    if (refusedForGood(cause)) {
                        outcome.complete(new Outcome(item, null, new IngestRejection(503, "NOT_STORED",
                                "refused by the broker: " + cause)));
                    } else {
                        retryOrGiveUp(cause, null);
                    }
                } catch (Throwable unexpected) {
                    failed(unexpected);
                }
            });
        }

        /** Sends again after the pause, or after {@code wait} when ingest said when (an undecided earlier send). */
        private void retryOrGiveUp(Throwable why, Duration wait) {
            lastFailure = why;
            Duration pause = wait != null && wait.compareTo(retryPause) > 0 ? wait : retryPause;
            long at = System.nanoTime() + pause.toNanos();
            if (at > giveUpAt) {
                pause = Duration.ofNanos(Math.max(0, giveUpAt - System.nanoTime()));
                if (wait == null || pause.isZero()) {
                    giveUp(why);
                    return;
                }
            }
            try {
                retries.schedule(this::next, pause.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                giveUp(closing);
            }
        }

        /** A fault of ingest itself (a bug, out of memory): logged with its trace, the file failed, the run goes on. */
        private void failed(Throwable unexpected) {
            LOG.error("sending {} failed inside ingest", item.file().getFileName(), unexpected);
            outcome.complete(new Outcome(item, null,
                    new IngestRejection(500, "INTERNAL_ERROR", unexpected.toString())));
        }

        /**
         * The file's outcome when no send was acknowledged: NOT_CONFIRMED (with the image id) when a send may have
         * been stored all the same, else NOT_STORED.
         */
        private void giveUp(Throwable why) {
            String reason = why == null ? "the retry time is up" : why.toString();
            ImageReceived maybe = unacknowledged;
            outcome.complete(new Outcome(item, null, maybe != null
                    ? new IngestRejection(503, "NOT_CONFIRMED", "image " + maybe.getImageId() + " may or may not be "
                            + "stored: no send was acknowledged within " + retryFor.toMinutes() + " min (" + reason
                            + ")")
                    : new IngestRejection(503, "NOT_STORED", "not stored within " + retryFor.toMinutes()
                            + " min of retries (" + reason + ")")));
        }
    }

    /**
     * Errors after which no send of this file can be stored: those after which the broker certainly did not write
     * it ({@link IngestService#certainlyNotWritten}) but a full buffer and a schema registry that does not answer,
     * which pass.
     */
    static boolean refusedForGood(Throwable cause) {
        return IngestService.certainlyNotWritten(cause)
                && !(cause instanceof org.apache.kafka.clients.producer.BufferExhaustedException)
                && !org.cxrtriage.schemas.RegistryErrors.unavailable(cause);
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
