package org.cxrtriage.similarity;

import java.util.List;
import java.util.Optional;

/** Nearest-neighbour search over case embeddings. Implementations are thread-safe. */
public interface NeighbourIndex {

    /** One search result: the case and its Euclidean distance to the query. */
    record Hit(CaseRecord record, float distance) {
    }

    /** Adds or replaces the case with the same image id. */
    void put(CaseRecord record);

    /** Adds many cases (a rebuild); implementations may parallelise. */
    default void putAll(List<CaseRecord> records) {
        records.forEach(this::put);
    }

    /**
     * Makes every case put so far searchable now, so that the first search after a rebuild does not pay for it (HNSW:
     * writes the indexing buffer out as graph segments). Searches do it anyway when needed.
     */
    default void refresh() {
    }

    /** Takes the case of this image out (a retracted image); nothing when there is none. */
    void remove(String imageId);

    Optional<CaseRecord> get(String imageId);

    /** Forgets every case (the store it mirrors was refilled). */
    void clear();

    /** The k nearest cases, nearest first, skipping every case of {@code excludePatientRef} (null: none). */
    List<Hit> search(float[] query, int k, String excludePatientRef);

    int size();
}
