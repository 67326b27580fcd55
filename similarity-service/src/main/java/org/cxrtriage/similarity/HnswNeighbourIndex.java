package org.cxrtriage.similarity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;

/**
 * Approximate search with Lucene's HNSW graphs, in memory. Cases of the excluded patient are filtered inside the
 * graph search (Lucene falls back to exact search when a filter is very selective), so k results still come back.
 * Case metadata stays in a map; Lucene holds only ids, patient refs and vectors.
 */
public final class HnswNeighbourIndex implements NeighbourIndex, AutoCloseable {

    private static final String ID = "id";
    private static final String PATIENT = "patient";
    private static final String VECTOR = "vec";

    /** Candidates explored per query (Lucene's k doubles as HNSW's ef): more means better recall, slower queries. */
    public static final int DEFAULT_EF_SEARCH = 100;

    private final Map<String, CaseRecord> records = new ConcurrentHashMap<>();
    private final int efSearch;
    private final ByteBuffersDirectory directory = new ByteBuffersDirectory();
    private final IndexWriter writer;
    private final SearcherManager searchers;
    private volatile boolean dirty;

    public HnswNeighbourIndex() {
        this(DEFAULT_EF_SEARCH);
    }

    public HnswNeighbourIndex(int efSearch) {
        this.efSearch = efSearch;
        try {
            IndexWriterConfig config = new IndexWriterConfig().setRAMBufferSizeMB(256);
            writer = new IndexWriter(directory, config);
            searchers = new SearcherManager(writer, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void put(CaseRecord record) {
        Document doc = new Document();
        doc.add(new StringField(ID, record.imageId(), Field.Store.YES));
        doc.add(new StringField(PATIENT, record.patientRef(), Field.Store.NO));
        doc.add(new KnnFloatVectorField(VECTOR, record.embedding(), VectorSimilarityFunction.EUCLIDEAN));
        try {
            if (records.put(record.imageId(), record) == null) {
                writer.addDocument(doc);
                dirty = true;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
        try {
            if (dirty) {
                dirty = false;
                searchers.maybeRefreshBlocking();
            }
            IndexSearcher searcher = searchers.acquire();
            try {
                Query filter = null;
                if (excludePatientRef != null) {
                    filter = new BooleanQuery.Builder()
                            .add(new MatchAllDocsQuery(), BooleanClause.Occur.FILTER)
                            .add(new TermQuery(new Term(PATIENT, excludePatientRef)), BooleanClause.Occur.MUST_NOT)
                            .build();
                }
                int candidates = Math.max(k, efSearch);
                TopDocs top = searcher.search(new KnnFloatVectorQuery(VECTOR, query, candidates, filter), candidates);
                List<Hit> hits = new ArrayList<>(top.scoreDocs.length);
                for (ScoreDoc sd : top.scoreDocs) {
                    String id = searcher.storedFields().document(sd.doc).get(ID);
                    CaseRecord r = records.get(id);
                    if (r != null) {
                        hits.add(new Hit(r, ExactNeighbourIndex.distance(query, r.embedding())));
                    }
                }
                hits.sort(java.util.Comparator.comparingDouble(Hit::distance));
                return hits.size() > k ? List.copyOf(hits.subList(0, k)) : hits;
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
            searchers.maybeRefreshBlocking();
            dirty = false;
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
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
