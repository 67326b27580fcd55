package org.cxrtriage.similarity;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;

/**
 * Approximate search with Lucene's HNSW graphs.
 *
 * <ul>
 *   <li>Queries search the graph without a filter and drop the query patient's own cases afterwards, asking for as
 *       many extra results as that patient has cases: exact, and far cheaper than a per-query filter bitset over a
 *       million documents.</li>
 *   <li>Result documents map to cases through a doc-values id (no stored-field decompression per hit).</li>
 *   <li>Bulk loads add documents from two threads (two segments built in parallel); merges use two workers.</li>
 *   <li>With a directory, the index is a snapshot on disk: {@link #commit} records the case store's change number
 *       and epoch with it, so a restart opens the graph and reads back only the changes made since, instead of
 *       rebuilding a million-node graph.</li>
 * </ul>
 */
public final class HnswNeighbourIndex implements NeighbourIndex, AutoCloseable {

    private static final String ID = "id";
    private static final String VECTOR = "vec";
    private static final String CASE = "case";
    private static final String CHANGE = "store.change";
    private static final String EPOCH = "store.epoch";

    /**
     * Graph and search parameters.
     *
     * @param maxConn    neighbours per node (HNSW's M; twice that on the bottom layer)
     * @param beamWidth  candidates explored per insertion (HNSW's efConstruction): the build's cost
     * @param efSearch   candidates explored per query (Lucene's k doubles as HNSW's ef): more means better recall,
     *                   slower queries
     */
    public record Params(int maxConn, int beamWidth, int efSearch) {
        public Params {
            if (maxConn < 2 || maxConn > 512 || beamWidth < 1 || beamWidth > 3200 || efSearch < 1) {
                throw new IllegalArgumentException("HNSW parameters out of range: M " + maxConn + ", beam width "
                        + beamWidth + ", ef " + efSearch + " (M 2..512, beam width 1..3200, ef >= 1)");
            }
        }
    }

    public static final int DEFAULT_EF_SEARCH = 100;
    /**
     * Chosen with {@code bin/bench-index.sh --max-conn 8,12,16 --beam-width 32 --ef 32,64,100,128}: M makes little
     * difference to the build; over 500 queries at 1M cases ef 64 gives recall@4 0.988-0.989 and ef 100 0.993, at a
     * p99 near 1 ms (README).
     */
    public static final Params DEFAULT_PARAMS = new Params(12, 32, DEFAULT_EF_SEARCH);
    /**
     * Indexing buffer before a flush writes a segment: large, because every segment is one more graph each query
     * searches (1M cases in two segments, one per rebuild thread, with an 8 GB heap); a quarter of the heap at most.
     */
    private static final double RAM_BUFFER_MB = Math.max(64, Math.min(1900,
            Runtime.getRuntime().maxMemory() / (4.0 * 1024 * 1024)));
    private static final int WORKERS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

    static {
        Distances.vectorised(); // before Lucene's vector classes load: quiets their Java 17 warning (see Distances)
    }

    private final Map<String, CaseRecord> records = new ConcurrentHashMap<>();
    private final Map<String, Integer> casesPerPatient = new ConcurrentHashMap<>();
    private volatile int efSearch;
    private final Directory directory;
    private final ExecutorService mergeWorkers = Executors.newFixedThreadPool(WORKERS, r -> {
        Thread t = new Thread(r, "hnsw-merge");
        t.setDaemon(true);
        return t;
    });
    private final IndexWriter writer;
    private final SearcherManager searchers;
    private final long snapshotChange;
    private final String snapshotEpoch;
    private volatile boolean dirty;

    public HnswNeighbourIndex() {
        this(DEFAULT_EF_SEARCH);
    }

    /** In memory only. */
    public HnswNeighbourIndex(int efSearch) {
        this(efSearch, null);
    }

    /**
     * @param snapshotDir where the index lives on disk (null: in memory); an existing snapshot there is opened and its
     *                    cases loaded
     */
    public HnswNeighbourIndex(int efSearch, Path snapshotDir) {
        this(new Params(DEFAULT_PARAMS.maxConn(), DEFAULT_PARAMS.beamWidth(), efSearch), snapshotDir);
    }

    /**
     * @param snapshotDir where the index lives on disk (null: in memory); an existing snapshot there is opened and its
     *                    cases loaded (its graph keeps the parameters it was built with)
     */
    public HnswNeighbourIndex(Params params, Path snapshotDir) {
        this.efSearch = params.efSearch();
        try {
            directory = snapshotDir == null ? new ByteBuffersDirectory() : new MMapDirectory(snapshotDir);
            IndexWriterConfig config = new IndexWriterConfig().setRAMBufferSizeMB(RAM_BUFFER_MB)
                    .setCodec(new Lucene912Codec() {
                        @Override
                        public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                            return new CaseVectorsFormat(params.maxConn(), params.beamWidth(), WORKERS,
                                    mergeWorkers);
                        }
                    });
            writer = new IndexWriter(directory, config);
            searchers = new SearcherManager(writer, null);
            Map<String, String> committed = new HashMap<>();
            writer.getLiveCommitData().forEach(e -> committed.put(e.getKey(), e.getValue()));
            snapshotChange = Long.parseLong(committed.getOrDefault(CHANGE, "-1"));
            snapshotEpoch = committed.get(EPOCH);
            loadStoredCases();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads the cases of an opened snapshot back into memory (stored fields are read once, sequentially). */
    private void loadStoredCases() throws IOException {
        try (DirectoryReader reader = DirectoryReader.open(writer)) {
            for (LeafReaderContext leaf : reader.leaves()) {
                LeafReader r = leaf.reader();
                StoredFields stored = r.storedFields();
                Bits live = r.getLiveDocs();
                for (int doc = 0; doc < r.maxDoc(); doc++) {
                    if (live == null || live.get(doc)) {
                        CaseRecord c = decode(stored.document(doc).getBinaryValue(CASE));
                        if (records.put(c.imageId(), c) == null) {
                            casesPerPatient.merge(c.patientRef(), 1, Integer::sum);
                        }
                    }
                }
            }
        }
    }

    /** The case store change number the opened snapshot is complete up to; -1 when there was none. */
    public long snapshotChange() {
        return snapshotChange;
    }

    /** The case store epoch the opened snapshot belongs to (null when there was none). */
    public String snapshotEpoch() {
        return snapshotEpoch;
    }

    @Override
    public void put(CaseRecord record) {
        CaseRecord previous = records.put(record.imageId(), record);
        try {
            if (previous == null) {
                casesPerPatient.merge(record.patientRef(), 1, Integer::sum);
                writer.addDocument(document(record));
                dirty = true;
            } else if (!previous.equalsMetadata(record)) {
                // A relabelled case: keep the snapshot's copy current (rare, so re-inserting the vector is fine).
                writer.updateDocument(new Term(ID, record.imageId()), document(record));
                dirty = true;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void remove(String imageId) {
        CaseRecord previous = records.remove(imageId);
        if (previous == null) {
            return;
        }
        casesPerPatient.computeIfPresent(previous.patientRef(), (p, n) -> n > 1 ? n - 1 : null);
        try {
            // Searches skip it at once (its id no longer resolves); the graph drops it at the next reopen.
            writer.deleteDocuments(new Term(ID, imageId));
            dirty = true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Adds many cases from two threads, so two segments' graphs are built at once, each thread taking one half of the
     * cases in {@link LocalityOrder} (cache-friendly insertion).
     */
    @Override
    public void putAll(List<CaseRecord> cases) {
        int[] order = LocalityOrder.of(cases);
        int threads = Math.min(WORKERS, 2);
        inParallel(threads, "indexing", t -> () -> {
            int from = t * cases.size() / threads;
            int to = (t + 1) * cases.size() / threads;
            for (int i = from; i < to; i++) {
                put(cases.get(order[i]));
            }
            return null;
        });
    }

    /** Runs {@code task.apply(t)} for t = 0 .. threads - 1, each on a thread of its own, and waits for all. */
    private static void inParallel(int threads, String what,
            java.util.function.IntFunction<java.util.concurrent.Callable<Void>> task) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Void>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                parts.add(pool.submit(task.apply(t)));
            }
            for (Future<Void> f : parts) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + what, e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(what + " failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdown();
        }
    }

    private static Document document(CaseRecord c) {
        Document doc = new Document();
        doc.add(new StringField(ID, c.imageId(), Field.Store.NO));
        doc.add(new BinaryDocValuesField(ID, new BytesRef(c.imageId())));
        doc.add(new KnnFloatVectorField(VECTOR, c.embedding(), VectorSimilarityFunction.EUCLIDEAN));
        doc.add(new StoredField(CASE, encode(c)));
        return doc;
    }

    @Override
    public Optional<CaseRecord> get(String imageId) {
        return Optional.ofNullable(records.get(imageId));
    }

    @Override
    public List<Hit> search(float[] query, int k, String excludePatientRef) {
        if (k <= 0 || records.isEmpty()) {
            return List.of();
        }
        int own = excludePatientRef == null ? 0 : casesPerPatient.getOrDefault(excludePatientRef, 0);
        int wanted = k + own;
        try {
            if (dirty) {
                reopen();
            }
            IndexSearcher searcher = searchers.acquire();
            try {
                int candidates = Math.max(wanted, efSearch);
                // Each segment's graph searched directly (no query rewrite), results merged nearest first.
                List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
                List<LeafHit> found = new ArrayList<>(candidates * leaves.size());
                for (int l = 0; l < leaves.size(); l++) {
                    LeafReader reader = leaves.get(l).reader();
                    TopDocs top = reader.searchNearestVectors(VECTOR, query, candidates, reader.getLiveDocs(),
                            Integer.MAX_VALUE);
                    for (ScoreDoc sd : top.scoreDocs) {
                        found.add(new LeafHit(l, sd.doc, sd.score));
                    }
                }
                found.sort(Comparator.comparingDouble((LeafHit h) -> h.score).reversed());
                // The first k hits of other patients are the answer, so stop there.
                BinaryDocValues[] ids = new BinaryDocValues[leaves.size()];
                List<Hit> hits = new ArrayList<>(k);
                for (LeafHit h : found) {
                    // Doc values only move forwards: a fresh iterator for a hit behind the last one read.
                    if (ids[h.leaf] == null || ids[h.leaf].docID() >= h.doc) {
                        ids[h.leaf] = leaves.get(h.leaf).reader().getBinaryDocValues(ID);
                    }
                    BinaryDocValues leafIds = ids[h.leaf];
                    if (leafIds == null || !leafIds.advanceExact(h.doc)) {
                        continue;
                    }
                    CaseRecord r = records.get(leafIds.binaryValue().utf8ToString());
                    if (r != null && !r.patientRef().equals(excludePatientRef)) {
                        hits.add(new Hit(r, ExactNeighbourIndex.distance(query, r.embedding())));
                        if (hits.size() == k) {
                            break;
                        }
                    }
                }
                hits.sort(Comparator.comparingDouble(Hit::distance));
                return hits;
            } finally {
                searchers.release(searcher);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record LeafHit(int leaf, int doc, float score) {
    }

    /** Changes the candidates explored per query from now on (recall against speed; the graph stays). */
    public void efSearch(int ef) {
        if (ef < 1) {
            throw new IllegalArgumentException("ef must be >= 1, got " + ef);
        }
        efSearch = ef;
    }

    /**
     * Flushes the indexing buffers from two threads at once (a flush writes a segment's graph, vectors and stored
     * cases: about 7 s for 1M cases on one thread here), then reopens the searcher.
     */
    @Override
    public void refresh() {
        inParallel(Math.min(WORKERS, 2), "flushing the index", t -> () -> {
            while (writer.flushNextBuffer()) {
                // one buffer (one future segment) per call, until none is left
            }
            return null;
        });
        try {
            reopen();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Makes the searcher see every change so far (cleared first: a put during the reopen marks it again). */
    private void reopen() throws IOException {
        dirty = false;
        searchers.maybeRefreshBlocking();
    }

    /** How many graphs a query searches (one per Lucene segment). */
    public int segments() {
        try {
            reopen();
            IndexSearcher searcher = searchers.acquire();
            try {
                return searcher.getIndexReader().leaves().size();
            } finally {
                searchers.release(searcher);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Merges segments into one graph: faster queries after a bulk load. */
    public void optimise() {
        try {
            writer.forceMerge(1);
            reopen();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Makes the index durable as a snapshot complete up to the case store's change number {@code change} of store
     * epoch {@code epoch} (no-op in memory).
     */
    public void commit(long change, String epoch) {
        if (directory instanceof ByteBuffersDirectory) {
            return;
        }
        try {
            writer.setLiveCommitData(Map.of(CHANGE, Long.toString(change), EPOCH, epoch == null ? "" : epoch)
                    .entrySet());
            writer.commit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Forgets every case (a snapshot of another store epoch, or a refilled store). */
    @Override
    public void clear() {
        try {
            writer.deleteAll();
            records.clear();
            casesPerPatient.clear();
            dirty = true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public int size() {
        return records.size();
    }

    @Override
    public void close() {
        try {
            searchers.close();
            writer.close();
            directory.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            mergeWorkers.shutdown();
        }
    }

    private static byte[] encode(CaseRecord c) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 4 * c.embedding().length);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeUTF(c.imageId());
            out.writeUTF(c.patientRef());
            out.writeUTF(c.siteId());
            out.writeLong(c.scoredAtMillis());
            out.writeFloat(c.probability());
            out.writeBoolean(c.predictedPositive());
            out.writeByte(c.confirmedPositive() == null ? 2 : c.confirmedPositive() ? 1 : 0);
            out.writeInt(c.embedding().length);
            for (float v : c.embedding()) {
                out.writeFloat(v);
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static CaseRecord decode(BytesRef b) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(b.bytes, b.offset, b.length))) {
            String id = in.readUTF();
            String patient = in.readUTF();
            String site = in.readUTF();
            long at = in.readLong();
            float p = in.readFloat();
            boolean predicted = in.readBoolean();
            byte confirmed = in.readByte();
            float[] e = new float[in.readInt()];
            for (int i = 0; i < e.length; i++) {
                e[i] = in.readFloat();
            }
            return new CaseRecord(id, patient, site, at, p, predicted, e, confirmed == 2 ? null : confirmed == 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
