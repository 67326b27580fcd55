package org.cxrtriage.similarity;

import java.io.IOException;
import java.util.concurrent.ExecutorService;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.KnnVectorsReader;
import org.apache.lucene.codecs.KnnVectorsWriter;
import org.apache.lucene.codecs.lucene99.Lucene99FlatVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsReader;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsWriter;
import org.apache.lucene.search.TaskExecutor;

/**
 * Lucene's HNSW vector format (same files as {@code Lucene99HnswVectorsFormat}) scored with
 * {@link SimdFlatVectorsScorer}, so graph building and search use vectorised distances on Java 17. Registered under
 * its own name (META-INF/services) so that reopened snapshots are read, searched and merged with it too.
 */
public final class CaseVectorsFormat extends KnnVectorsFormat {

    public static final String NAME = "CxrCaseHnsw99";

    private final int maxConn;
    private final int beamWidth;
    private final int mergeWorkers;
    private final TaskExecutor mergeExecutor;
    private final Lucene99FlatVectorsFormat flat = new Lucene99FlatVectorsFormat(SimdFlatVectorsScorer.INSTANCE);

    /** For reading (the graph's parameters are in the files); Lucene's SPI calls this. */
    public CaseVectorsFormat() {
        this(16, 100, 1, null);
    }

    public CaseVectorsFormat(int maxConn, int beamWidth, int mergeWorkers, ExecutorService mergeExecutor) {
        super(NAME);
        this.maxConn = maxConn;
        this.beamWidth = beamWidth;
        this.mergeWorkers = mergeExecutor == null ? 1 : mergeWorkers;
        this.mergeExecutor = mergeExecutor == null ? null : new TaskExecutor(mergeExecutor);
    }

    @Override
    public KnnVectorsWriter fieldsWriter(org.apache.lucene.index.SegmentWriteState state) throws IOException {
        return new Lucene99HnswVectorsWriter(state, maxConn, beamWidth, flat.fieldsWriter(state), mergeWorkers,
                mergeExecutor);
    }

    @Override
    public KnnVectorsReader fieldsReader(org.apache.lucene.index.SegmentReadState state) throws IOException {
        return new Lucene99HnswVectorsReader(state, flat.fieldsReader(state));
    }

    @Override
    public String toString() {
        return NAME + "(maxConn=" + maxConn + ", beamWidth=" + beamWidth + ", scorer=" + SimdFlatVectorsScorer.INSTANCE
                + ")";
    }
}
