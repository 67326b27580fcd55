package org.cxrtriage.similarity;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Brute-force exact search: the reference answer, and fast enough for tens of thousands of cases
 * (an approximate index can sit behind the same interface for larger networks).
 */
public final class ExactNeighbourIndex implements NeighbourIndex {

    private final List<CaseRecord> records = new ArrayList<>();
    private final Map<String, Integer> positionById = new HashMap<>();
    private final ReadWriteLock lock = new ReentrantReadWriteLock();

    @Override
    public void put(CaseRecord record) {
        lock.writeLock().lock();
        try {
            Integer at = positionById.get(record.imageId());
            if (at != null) {
                records.set(at, record);
            } else {
                positionById.put(record.imageId(), records.size());
                records.add(record);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public void remove(String imageId) {
        lock.writeLock().lock();
        try {
            Integer at = positionById.remove(imageId);
            if (at != null) {
                // The last case takes the removed one's place: no shifting, positions stay dense.
                CaseRecord last = records.remove(records.size() - 1);
                if (at < records.size()) {
                    records.set(at, last);
                    positionById.put(last.imageId(), at);
                }
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public void clear() {
        lock.writeLock().lock();
        try {
            records.clear();
            positionById.clear();
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public Optional<CaseRecord> get(String imageId) {
        lock.readLock().lock();
        try {
            Integer at = positionById.get(imageId);
            return at == null ? Optional.empty() : Optional.of(records.get(at));
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public List<Hit> search(float[] query, int k, String excludePatientRef) {
        if (k <= 0) {
            return List.of();
        }
        // Max-heap of the best k so far: the worst kept hit is on top.
        PriorityQueue<Hit> best = new PriorityQueue<>(k + 1, Comparator.comparingDouble(Hit::distance).reversed());
        lock.readLock().lock();
        try {
            for (CaseRecord r : records) {
                if (r.embedding().length != query.length || r.patientRef().equals(excludePatientRef)) {
                    continue;
                }
                float d = distance(query, r.embedding());
                if (best.size() < k) {
                    best.add(new Hit(r, d));
                } else if (d < best.peek().distance()) {
                    best.poll();
                    best.add(new Hit(r, d));
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        List<Hit> out = new ArrayList<>(best);
        out.sort(Comparator.comparingDouble(Hit::distance).thenComparing(h -> h.record().imageId()));
        return out;
    }

    @Override
    public int size() {
        lock.readLock().lock();
        try {
            return records.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    static float distance(float[] a, float[] b) {
        return (float) Math.sqrt(Distances.squareDistance(a, b));
    }
}
