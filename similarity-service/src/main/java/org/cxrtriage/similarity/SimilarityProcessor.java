package org.cxrtriage.similarity;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.cxrtriage.schemas.AlertEvent;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.CxrLabel;
import org.cxrtriage.schemas.CxrNeighbours;
import org.cxrtriage.schemas.CxrRetraction;
import org.cxrtriage.schemas.CxrScore;
import org.cxrtriage.schemas.LabelSource;
import org.cxrtriage.schemas.Neighbour;

/**
 * For each score: find the k most similar prior cases of other patients, store the case, and decide on an alert.
 * For each confirmed label: attach it to the stored cases so later votes use it.
 */
public final class SimilarityProcessor {

    /**
     * What one score produces: always neighbours; an alert event when the image opens or updates its patient's alert.
     * {@code otherEmbeddingSpace}: the score came from another model than the stored cases, so it got no neighbours.
     * {@code neighbours} null: the image was retracted before it was scored, so nothing is published for it.
     */
    public record Result(CxrNeighbours neighbours, CxrAlert alert, boolean otherEmbeddingSpace) {

        static final Result RETRACTED = new Result(null, null, false);

        public boolean retracted() {
            return neighbours == null;
        }
    }

    private final NeighbourIndex index;
    private final CaseStore store;
    private final AlertPolicy policy;
    private final int k;
    private final Duration alertWindow;
    /** How long an alert's images are kept after a join (at least the window), see the constructor. */
    private final Duration retractable;
    /** During a recovery: each alert's latest join (epoch ms), see {@link #noteAlertJoin}. */
    private final Map<String, Long> latestJoins = new java.util.concurrent.ConcurrentHashMap<>();
    /** The store's change sequence number this index has caught up with. */
    private long syncedChange;
    /** The store generation ({@link CaseStore#epoch}) the index was filled from; null: unknown or being filled. */
    private String indexEpoch;
    /** The embedding space of the stored cases ({@link #spaceOf}), once known. */
    private volatile String storeSpace;

    public SimilarityProcessor(NeighbourIndex index, CaseStore store, AlertPolicy policy, int k, Duration alertWindow) {
        this(index, store, policy, k, alertWindow, alertWindow);
    }

    /**
     * {@code retractable}: how long after an image joined its alert a retraction of it still changes the alert
     * (a {@code RETRACTED} event), also once the alert closed; at least the alert window.
     */
    public SimilarityProcessor(NeighbourIndex index, CaseStore store, AlertPolicy policy, int k, Duration alertWindow,
                               Duration retractable) {
        this.index = index;
        this.store = store;
        this.policy = policy;
        this.k = k;
        this.alertWindow = alertWindow;
        this.retractable = CaseStore.keep(alertWindow, retractable);
    }

    /**
     * Fills the index on start: from its snapshot plus the changes made since, when it has a snapshot of this store
     * epoch; otherwise from every stored case. Returns the number of cases indexed.
     */
    public synchronized int rebuildIndex() {
        CaseStore.Position at = store.position();
        if (index instanceof HnswNeighbourIndex h && h.snapshotChange() >= 0) {
            if (at.epoch() != null && at.epoch().equals(h.snapshotEpoch()) && h.snapshotChange() <= at.lastChange()) {
                syncedChange = h.snapshotChange();
                indexEpoch = h.snapshotEpoch();
                syncIndex();
                return index.size();
            }
            h.clear(); // a snapshot of a store that no longer exists
        }
        return reloadFrom(at);
    }

    /**
     * Fills the index again from the store, forgetting what it held: the store was refilled (Redis lost its data),
     * and the index may hold cases the new store does not (of batches aborted since) or miss retractions made in the
     * old one. {@link #syncIndex} does it whenever it finds the store of another generation than the index was filled
     * from. Returns the number of cases indexed.
     */
    public synchronized int reloadIndex() {
        return reloadFrom(store.position());
    }

    private int reloadFrom(CaseStore.Position at) {
        indexEpoch = null; // until it is filled: no snapshot of a half-filled index
        index.clear();
        int loaded = loadInto(store, index, LOG_PROGRESS);
        syncedChange = at.lastChange();
        indexEpoch = at.epoch();
        return loaded;
    }

    /** The store generation the index was filled from (null: not known, or being filled). */
    public synchronized String indexEpoch() {
        return indexEpoch;
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SimilarityProcessor.class);
    private static final java.util.function.IntConsumer LOG_PROGRESS = done ->
            LOG.info("case index rebuild: {} cases indexed", done);

    /**
     * Cases read from Redis per hand-over in a rebuild: indexing batches overlaps reading the next, and each batch is
     * indexed in {@link LocalityOrder} (a batch this large groups similar cases well).
     */
    static final int REBUILD_BATCH = 100_000;
    /** Threads indexing in a rebuild, each a whole batch at a time (HNSW: one graph segment each). */
    private static final int REBUILD_THREADS = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));

    /**
     * Fills {@code index} with every stored case, reading the next batch from Redis while earlier ones are indexed
     * (a cold start's rebuild), each batch in locality order. {@code progress} hears the count after every 100,000.
     * Returns the number indexed.
     */
    public static int loadInto(CaseStore store, NeighbourIndex index, java.util.function.IntConsumer progress) {
        return loadInto(store, index, true, progress);
    }

    /**
     * As {@link #loadInto(CaseStore, NeighbourIndex, java.util.function.IntConsumer)}; with {@code localityOrder}
     * false each batch is indexed in the order Redis returns it (the index benchmark compares the two).
     */
    public static int loadInto(CaseStore store, NeighbourIndex index, boolean localityOrder,
            java.util.function.IntConsumer progress) {
        return loadInto(store, index, REBUILD_BATCH, 100_000, localityOrder, progress);
    }

    /** As {@link #loadInto(CaseStore, NeighbourIndex, java.util.function.IntConsumer)} with the given sizes. */
    static int loadInto(CaseStore store, NeighbourIndex index, int batchSize, int progressEvery,
            boolean localityOrder, java.util.function.IntConsumer progress) {
        java.util.concurrent.atomic.AtomicInteger threads = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.ExecutorService indexers = java.util.concurrent.Executors.newFixedThreadPool(
                REBUILD_THREADS, r -> {
                    Thread t = new Thread(r, "index-rebuild-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        java.util.ArrayDeque<java.util.concurrent.Future<?>> pending = new java.util.ArrayDeque<>();
        try {
            store.forEachBatch(batchSize, batch -> {
                // At most one batch per indexing thread waits or runs: memory stays bounded, no thread idles.
                while (pending.size() >= REBUILD_THREADS) {
                    await(pending.poll());
                }
                pending.add(indexers.submit(() -> {
                    if (localityOrder) {
                        for (int i : LocalityOrder.of(batch)) {
                            index.put(batch.get(i));
                        }
                    } else {
                        batch.forEach(index::put);
                    }
                    int after = done.addAndGet(batch.size());
                    if (after / progressEvery != (after - batch.size()) / progressEvery) {
                        progress.accept(after / progressEvery * progressEvery);
                    }
                }));
            });
            while (!pending.isEmpty()) {
                await(pending.poll());
            }
        } finally {
            indexers.shutdownNow();
        }
        index.refresh(); // part of the rebuild: ready for the first query
        return done.get();
    }

    private static void await(java.util.concurrent.Future<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while rebuilding the case index", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("case index rebuild failed: " + e.getCause(), e.getCause());
        }
    }

    /** Writes the index snapshot (when the index keeps one), complete up to the changes applied so far. */
    public synchronized void snapshot() {
        // Only an index filled from the store as it is now: a snapshot is trusted on restart by its generation.
        if (index instanceof HnswNeighbourIndex h && indexEpoch != null && indexEpoch.equals(store.epoch())) {
            h.commit(syncedChange, indexEpoch);
        }
    }

    /**
     * Brings the index up to date with cases other instances stored or relabelled since the last call (and this
     * instance's own label changes), so every instance searches the same cases and gives the same answers. When the
     * store was refilled (Redis lost its data) or went back (restored from an older copy), the index is reloaded whole.
     */
    public int syncIndex() {
        return syncIndex(true);
    }

    /**
     * As {@link #syncIndex()}, but a search (an HTTP request) never reloads the whole index: that takes long and holds
     * the index for everyone; it answers from the index as it is until the loop or the snapshot timer has reloaded it.
     */
    private int syncIndexForSearch() {
        return syncIndex(false);
    }

    private synchronized int syncIndex(boolean mayReload) {
        CaseStore.Position at = store.position();
        long last = at.lastChange();
        // Refilled (by this instance's recovery or another's): what the index holds may be of the old store. Gone
        // back: change numbers after the copy's are reused, so reading on from ours would miss cases.
        if ((at.epoch() != null && !at.epoch().equals(indexEpoch)) || last < syncedChange) {
            if (!mayReload) {
                return 0;
            }
            int loaded = reloadFrom(at);
            LOG.info("case index reloaded from the refilled case store: {} cases", loaded);
            return loaded;
        }
        if (last == syncedChange) {
            return 0;
        }
        List<CaseStore.Change> changes = store.changedSince(syncedChange);
        for (CaseStore.Change c : changes) {
            if (c.record() == null) {
                index.remove(c.imageId());
            } else {
                index.put(c.record());
            }
            syncedChange = Math.max(syncedChange, c.seq());
        }
        return changes.size();
    }

    /**
     * The space an embedding lives in: the model that made it. Two trainings give unrelated spaces even at the same
     * size, so distances between their embeddings mean nothing.
     */
    static String spaceOf(CxrScore score) {
        return score.getModelName() + ":" + score.getModelVersion();
    }

    /** Whether this score's embedding can be compared with the stored cases (the store keeps the first model's). */
    private boolean comparable(CxrScore score) {
        String space = spaceOf(score);
        String kept = storeSpace;
        if (kept == null) {
            kept = store.embeddingSpace(space);
            storeSpace = kept;
        }
        return kept.equals(space);
    }

    public Result onScore(CxrScore score, Instant now) {
        return onScore(score, null, now);
    }

    /**
     * As {@link #onScore(CxrScore, Instant)}, naming the score's record ({@code recordId}, e.g. its partition and
     * offset): a second record of the same image (published twice under one id) gets its neighbours again but no
     * second alert event; the same record replayed gets the same event.
     */
    public Result onScore(CxrScore score, String recordId, Instant now) {
        syncIndex();
        float[] embedding = toArray(score.getEmbedding());
        CaseRecord current = new CaseRecord(score.getImageId(), score.getPatientRef(), score.getSiteId(),
                score.getScoredAt().toEpochMilli(), score.getProbability(), score.getPositive(), embedding, null);
        // A score of another model than the stored cases is neither compared with them nor stored among them: its
        // neighbours would be meaningless, and the vector index refuses another size. It still alerts on its score.
        boolean comparable = comparable(score);
        // Retracted while in the pipeline: never a case, never an alert. Saving the case and joining the alert refuse
        // it in the same step as they write; only a score that does neither needs to ask.
        if (!comparable && store.isRetracted(score.getImageId())) {
            return Result.RETRACTED;
        }
        // Prior cases only, and never the patient's own images: their similarity says nothing new.
        List<NeighbourIndex.Hit> hits = comparable ? index.search(embedding, k, current.patientRef()) : List.of();
        List<Neighbour> neighbours = new ArrayList<>(hits.size());
        int positives = 0;
        for (NeighbourIndex.Hit h : hits) {
            CaseRecord c = h.record();
            positives += c.votePositive() ? 1 : 0;
            neighbours.add(Neighbour.newBuilder()
                    .setImageId(c.imageId())
                    .setPatientRef(c.patientRef())
                    .setSiteId(c.siteId())
                    .setDistance(h.distance())
                    .setProbability(c.probability())
                    .setPositive(c.votePositive())
                    .setLabelSource(c.confirmedPositive() != null ? LabelSource.CONFIRMED : LabelSource.PREDICTED)
                    .setScoredAt(Instant.ofEpochMilli(c.scoredAtMillis()))
                    .build());
        }
        float vote = hits.isEmpty() ? Float.NaN : positives / (float) hits.size();
        CxrNeighbours result = CxrNeighbours.newBuilder()
                .setImageId(score.getImageId())
                .setPatientRef(score.getPatientRef())
                .setSiteId(score.getSiteId())
                .setProbability(score.getProbability())
                .setPositive(score.getPositive())
                .setK(k)
                .setNeighbours(neighbours)
                .setKnnVote(vote)
                .setKnnPositive(!hits.isEmpty() && vote >= 0.5f)
                .setComputedAt(now)
                .build();
        if (comparable && index.get(current.imageId()).isEmpty()) {
            long seq = store.save(current);
            if (seq < 0) {
                return Result.RETRACTED; // retracted while in the pipeline: the save refused it
            }
            index.put(current);
            synchronized (this) {
                if (seq == syncedChange + 1) {
                    syncedChange = seq; // our own change: nothing to read back
                }
            }
            Boolean held = store.heldLabel(current.imageId(), current.patientRef());
            if (held != null) { // a confirmed outcome that came before this case
                store.setConfirmed(current.imageId(), held);
                index.put(current.withConfirmed(held));
            }
        }
        CxrAlert alert = null;
        if (policy.shouldAlert(score.getProbability(), score.getThreshold(), vote, hits.size())) {
            java.util.Optional<CaseStore.JoinedAlert> joined = store.joinAlert(score.getPatientRef(),
                    UUID.randomUUID().toString(), score.getImageId(), score.getSiteId(), now.toEpochMilli(),
                    alertWindow, retractable, recordId);
            if (joined.isEmpty()) {
                return Result.RETRACTED; // retracted since its case was saved: the retraction removed the case
            }
            if (joined.get().repeated()) {
                return new Result(result, null, !comparable); // its alert event went out with its first record
            }
            CaseStore.OpenAlert open = joined.get().alert();
            // Deterministic per image: processing an image again (a replay after an aborted transaction) yields the
            // same event again, published once by the transaction. The opening image OPENS the alert; each later
            // positive image of the patient within the window UPDATES it (same alert id).
            boolean opening = open.imageId().equals(score.getImageId());
            CaseStore.AlertImages images = joined.get().images();
            alert = CxrAlert.newBuilder()
                    .setAlertId(open.alertId())
                    .setPatientRef(score.getPatientRef())
                    .setSiteId(score.getSiteId())
                    .setImageId(score.getImageId())
                    .setProbability(score.getProbability())
                    .setKnnVote(vote)
                    .setNeighbours(neighbours)
                    .setFirstSeen(Instant.ofEpochMilli(open.firstSeenMillis()))
                    .setLastSeen(opening ? Instant.ofEpochMilli(open.firstSeenMillis()) : now)
                    .setRaisedAt(Instant.ofEpochMilli(open.firstSeenMillis()))
                    .setRule(policy.describe())
                    .setEvent(opening ? AlertEvent.OPENED : AlertEvent.UPDATED)
                    .setOpenedByImageId(opening ? null : open.imageId())
                    .setImageCount(Math.max(1, images.count()))
                    .setSites(images.sites())
                    .setRevision(images.revision())
                    .build();
        } else if (recordId != null && policy.dependsOnNeighbours()) {
            // This record may have joined the alert in an attempt that aborted, when the neighbours voted otherwise.
            store.forgetAlerted(score.getImageId(), recordId);
        }
        return new Result(result, alert, !comparable);
    }

    /**
     * Withdraws an image its site retracted: its case leaves the store and, through the change numbers, every
     * instance's index, so no later image gets it as a neighbour; it leaves the alert it joined (also one closed since,
     * within the retraction window); a score of it still in the pipeline will be dropped ({@link #onScore}). Returns
     * the alert event that says so (RETRACTED, with the images left; 0: the alert is withdrawn and the patient's next
     * positive image opens a new one), or null when the image was in no alert. The same record processed again (a
     * batch aborted and replayed; {@code recordId} names it, e.g. by partition and offset) returns the same event;
     * another record of an image already retracted returns null.
     */
    public CxrAlert onRetraction(CxrRetraction retraction, String recordId, Instant now) {
        String imageId = retraction.getImageId();
        java.util.Optional<CaseStore.Retraction> done = store.retract(imageId, retraction.getPatientRef(), recordId);
        index.remove(imageId);
        syncIndex();
        if (done.isEmpty()) {
            return null;
        }
        CaseStore.Retraction r = done.get();
        return CxrAlert.newBuilder()
                .setAlertId(r.alertId())
                .setPatientRef(r.patientRef())
                .setSiteId(retraction.getSiteId())
                .setImageId(imageId)
                .setProbability(r.probability())
                .setKnnVote(Float.NaN)
                .setNeighbours(List.of())
                .setFirstSeen(Instant.ofEpochMilli(r.firstSeenMillis()))
                .setLastSeen(now)
                .setRaisedAt(Instant.ofEpochMilli(r.firstSeenMillis()))
                .setRule("image retracted by its site (" + retraction.getReason() + ")")
                .setEvent(AlertEvent.RETRACTED)
                .setOpenedByImageId(r.openerImageId())
                .setImageCount(r.imagesLeft())
                .setSites(r.sites())
                .setRevision(r.revision())
                .build();
    }

    /**
     * Puts a published retraction back (recovery after Redis lost its data, before the scores are replayed);
     * {@code recordId} as for {@link #onRetraction}.
     */
    public void restoreRetraction(CxrRetraction retraction, String recordId) {
        store.retract(retraction.getImageId(), retraction.getPatientRef(), recordId);
        index.remove(retraction.getImageId());
    }

    public java.util.Optional<CaseRecord> caseOf(String imageId) {
        syncIndexForSearch();
        return index.get(imageId);
    }

    /**
     * The similar cases of a stored image (other patients only), nearest first, for the HTTP API; empty when the
     * image is unknown.
     */
    public java.util.Optional<List<NeighbourIndex.Hit>> similarTo(String imageId, int limit, int offset) {
        syncIndexForSearch();
        return index.get(imageId).map(c -> {
            List<NeighbourIndex.Hit> hits = index.search(c.embedding(), offset + limit, c.patientRef());
            return hits.subList(Math.min(offset, hits.size()), hits.size());
        });
    }

    /**
     * Puts a case back from its published score without searching or alerting (recovery after Redis lost its data);
     * returns whether it was missing.
     */
    public boolean restoreCase(CxrScore score) {
        if (!comparable(score)) {
            return false; // never stored: it came from another model than the cases
        }
        if (store.exists(score.getImageId())) {
            if (index.get(score.getImageId()).isEmpty()) {
                store.load(score.getImageId()).ifPresent(index::put);
            }
            return false;
        }
        CaseRecord c = index.get(score.getImageId()).orElseGet(() -> new CaseRecord(score.getImageId(),
                score.getPatientRef(), score.getSiteId(), score.getScoredAt().toEpochMilli(), score.getProbability(),
                score.getPositive(), toArray(score.getEmbedding()), null));
        if (store.save(c) < 0) {
            return false; // its site withdrew it
        }
        index.put(c);
        return true;
    }

    /**
     * Recovery's first pass over the alerts topic: remembers the latest join (an OPENED or UPDATED event's time) of
     * each alert whose images may still be kept, as a running service keeps them for the retraction window from the
     * alert's latest join ({@link #restoreAlert}).
     */
    public void noteAlertJoin(CxrAlert alert, Instant now) {
        if (alert.getEvent() == AlertEvent.RETRACTED) {
            return;
        }
        long joined = alert.getLastSeen().toEpochMilli();
        if (now.toEpochMilli() - joined < retractable.toMillis()) {
            latestJoins.merge(alert.getAlertId(), joined, Math::max);
        }
    }

    /** Forgets what {@link #noteAlertJoin} remembered (the recovery is over). */
    public void forgetAlertJoins() {
        latestJoins.clear();
    }

    /**
     * Re-opens a published alert that is still within its window, and puts back what an alert holds for the
     * retraction window after its latest join (recovery after Redis lost its data; the latest join from {@link
     * #noteAlertJoin}, else this event's time).
     */
    public boolean restoreAlert(CxrAlert alert, Instant now) {
        long opened = alert.getFirstSeen().toEpochMilli();
        Duration windowLeft = alertWindow.minusMillis(now.toEpochMilli() - opened);
        long latestJoin = Math.max(alert.getLastSeen().toEpochMilli(),
                latestJoins.getOrDefault(alert.getAlertId(), Long.MIN_VALUE));
        Duration keptLeft = retractable.minusMillis(now.toEpochMilli() - latestJoin);
        Duration left = keptLeft.compareTo(windowLeft) > 0 ? keptLeft : windowLeft;
        if (left.isNegative() || left.isZero()) {
            return false;
        }
        if (alert.getEvent() == AlertEvent.RETRACTED) {
            store.restoreRetraction(alert.getAlertId(), alert.getPatientRef(), alert.getImageId(),
                    alert.getImageCount(), alert.getSites(), alert.getRevision(), left);
            return false;
        }
        String opener = alert.getOpenedByImageId() != null ? alert.getOpenedByImageId() : alert.getImageId();
        boolean reopened = false;
        if (!windowLeft.isNegative() && !windowLeft.isZero()) {
            store.restoreAlerted(alert.getImageId(), windowLeft);
            reopened = store.restoreAlert(alert.getPatientRef(), alert.getAlertId(), opener, opened, windowLeft);
        }
        // An event names the sites of all the alert's images so far (none in events older than that field).
        store.restoreAlertImage(new CaseStore.OpenAlert(alert.getAlertId(), opener, opened, false),
                alert.getImageId(), alert.getSiteId(), alert.getSites(), alert.getRevision(), left);
        return reopened;
    }

    /** The cases most similar to an embedding that is not stored (an uploaded image), nearest first. */
    public List<NeighbourIndex.Hit> similarToEmbedding(float[] embedding, int limit, int offset) {
        syncIndexForSearch();
        List<NeighbourIndex.Hit> hits = index.search(embedding, offset + limit, null);
        return hits.subList(Math.min(offset, hits.size()), hits.size());
    }

    /**
     * Attaches a confirmed outcome to one image, or to every stored image of a patient. Returns the number of stored
     * cases it reached. An image's outcome that reaches no case (the image is still in the pipeline) is held for it;
     * a patient's is held for the patient's images scored within the alert window after it.
     */
    public int onLabel(CxrLabel label) {
        List<String> ids = new ArrayList<>();
        if (label.getImageId() != null) {
            ids.add(label.getImageId());
        } else if (label.getPatientRef() != null) {
            ids.addAll(store.imagesOfPatient(label.getPatientRef()));
        }
        int reached = 0;
        for (String id : ids) {
            if (store.setConfirmed(id, label.getPositive())) {
                reached++;
            }
            index.get(id).ifPresent(c -> index.put(c.withConfirmed(label.getPositive())));
        }
        if (label.getImageId() != null ? reached == 0 : label.getPatientRef() != null) {
            store.holdLabel(label.getImageId(), label.getPatientRef(), label.getPositive(), alertWindow);
        }
        return reached;
    }

    private static float[] toArray(List<Float> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }
}
