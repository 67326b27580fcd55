package org.cxrtriage.similarity;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.SetParams;

/**
 * Redis holds every case (the in-memory index is rebuilt from it on start) and the open alert of each patient.
 * Keys use only image ids and pseudonymised patient refs.
 */
public final class CaseStore {

    private static final int BATCH = 1000;

    private final UnifiedJedis redis;
    private final String prefix;

    public CaseStore(UnifiedJedis redis, String prefix) {
        this.redis = redis;
        this.prefix = prefix;
    }

    /** An open alert: created by the first positive image of a patient within the window. */
    public record OpenAlert(String alertId, String imageId, long firstSeenMillis, boolean created) {
    }

    private byte[] caseKey(String imageId) {
        return (prefix + "case:" + imageId).getBytes(StandardCharsets.UTF_8);
    }

    private String casesKey() {
        return prefix + "cases";
    }

    private String patientKey(String patientRef) {
        return prefix + "patient:" + patientRef;
    }

    public boolean exists(String imageId) {
        return redis.exists(caseKey(imageId));
    }

    /**
     * Takes the next change number and files the case under it, in one step (a script runs atomically): taken and
     * filed in two calls, a reader could see a later number filed first, catch up past it, and never see this one.
     */
    private static final String NEXT_CHANGE = "local seq = redis.call('INCR', KEYS[1]) "
            + "redis.call('ZADD', KEYS[2], seq, ARGV[1]) return seq";

    /** Stores a case; returns its change sequence number (see {@link #changedSince}). */
    public long save(CaseRecord c) {
        // One round trip (this runs for every scored image); the case is written before its change number is taken.
        redis.clients.jedis.Response<Object> seq;
        try (var p = redis.pipelined()) {
            p.hset(caseKey(c.imageId()), hash(c));
            p.zadd(casesKey(), c.scoredAtMillis(), c.imageId());
            p.sadd(patientKey(c.patientRef()), c.imageId());
            seq = p.eval(NEXT_CHANGE, List.of(seqKey(), changesKey()), List.of(c.imageId()));
            p.sync();
        }
        return (Long) seq.get();
    }

    private String seqKey() {
        return prefix + "case-seq";
    }

    private String changesKey() {
        return prefix + "case-changes";
    }

    /** Gives the case the next change sequence number, so every instance's index picks the change up. */
    private long touch(String imageId) {
        return (Long) redis.eval(NEXT_CHANGE, List.of(seqKey(), changesKey()), List.of(imageId));
    }

    /** The sequence number of the latest change (0 when none). */
    public long lastChange() {
        String v = redis.get(seqKey());
        return v == null ? 0 : Long.parseLong(v);
    }

    /** A case changed after some sequence number, with the number of its latest change. */
    public record Change(long seq, CaseRecord record) {
    }

    /** The cases added or relabelled after {@code seq}, in change order (how instances keep their indexes equal). */
    public List<Change> changedSince(long seq) {
        List<redis.clients.jedis.resps.Tuple> ids = redis.zrangeByScoreWithScores(changesKey(), "(" + seq, "+inf");
        List<Change> out = new ArrayList<>(ids.size());
        for (int from = 0; from < ids.size(); from += BATCH) {
            List<redis.clients.jedis.resps.Tuple> part = ids.subList(from, Math.min(ids.size(), from + BATCH));
            List<redis.clients.jedis.Response<Map<byte[], byte[]>>> replies = new ArrayList<>();
            try (var p = redis.pipelined()) {
                for (var t : part) {
                    replies.add(p.hgetAll(caseKey(t.getElement())));
                }
                p.sync();
            }
            for (int i = 0; i < part.size(); i++) {
                if (!replies.get(i).get().isEmpty()) {
                    out.add(new Change((long) part.get(i).getScore(), fromHash(replies.get(i).get())));
                }
            }
        }
        return out;
    }

    /** Bulk save in pipelined batches (imports, benchmarks): one round trip per thousand cases. */
    public void saveAll(List<CaseRecord> cases) {
        for (int from = 0; from < cases.size(); from += BATCH) {
            List<CaseRecord> part = cases.subList(from, Math.min(cases.size(), from + BATCH));
            // One block of change numbers for the whole batch.
            long first = redis.incrBy(seqKey(), part.size()) - part.size() + 1;
            try (var p = redis.pipelined()) {
                for (int i = 0; i < part.size(); i++) {
                    CaseRecord c = part.get(i);
                    p.hset(caseKey(c.imageId()), hash(c));
                    p.zadd(casesKey(), c.scoredAtMillis(), c.imageId());
                    p.sadd(patientKey(c.patientRef()), c.imageId());
                    p.zadd(changesKey(), first + i, c.imageId());
                }
                p.sync();
            }
        }
    }

    /** Removes every case of this store's prefix. */
    public void deleteAll() {
        List<String> ids = redis.zrange(casesKey(), 0, -1);
        for (int from = 0; from < ids.size(); from += BATCH) {
            try (var p = redis.pipelined()) {
                for (String id : ids.subList(from, Math.min(ids.size(), from + BATCH))) {
                    p.del(caseKey(id));
                }
                p.sync();
            }
        }
        redis.del(casesKey(), changesKey(), seqKey());
        List<String> patients = new ArrayList<>();
        redis.keys(prefix + "patient:*").forEach(patients::add);
        for (int from = 0; from < patients.size(); from += BATCH) {
            redis.del(patients.subList(from, Math.min(patients.size(), from + BATCH)).toArray(String[]::new));
        }
    }

    private static Map<byte[], byte[]> hash(CaseRecord c) {
        Map<byte[], byte[]> h = new HashMap<>();
        h.put(b("imageId"), b(c.imageId()));
        h.put(b("patientRef"), b(c.patientRef()));
        h.put(b("siteId"), b(c.siteId()));
        h.put(b("scoredAt"), b(Long.toString(c.scoredAtMillis())));
        h.put(b("probability"), b(Float.toString(c.probability())));
        h.put(b("predicted"), b(c.predictedPositive() ? "1" : "0"));
        h.put(b("embedding"), EmbeddingCodec.encode(c.embedding()));
        if (c.confirmedPositive() != null) {
            h.put(b("confirmed"), b(c.confirmedPositive() ? "1" : "0"));
        }
        return h;
    }

    public Optional<CaseRecord> load(String imageId) {
        Map<byte[], byte[]> h = redis.hgetAll(caseKey(imageId));
        return h.isEmpty() ? Optional.empty() : Optional.of(fromHash(h));
    }

    /** Every stored case, oldest first, read in pipelined batches. */
    public List<CaseRecord> loadAll() {
        List<CaseRecord> out = new ArrayList<>();
        forEachBatch(BATCH, out::addAll);
        return out;
    }

    /**
     * Every stored case, oldest first, handed over {@code batchSize} at a time as they are read (pipelined, one round
     * trip per thousand), so a caller can index one batch while the next is read.
     */
    public void forEachBatch(int batchSize, java.util.function.Consumer<List<CaseRecord>> consumer) {
        List<String> ids = redis.zrange(casesKey(), 0, -1);
        List<CaseRecord> batch = new ArrayList<>(batchSize);
        for (int from = 0; from < ids.size(); from += BATCH) {
            List<redis.clients.jedis.Response<Map<byte[], byte[]>>> replies = new ArrayList<>();
            try (var p = redis.pipelined()) {
                for (String id : ids.subList(from, Math.min(ids.size(), from + BATCH))) {
                    replies.add(p.hgetAll(caseKey(id)));
                }
                p.sync();
            }
            for (var r : replies) {
                if (!r.get().isEmpty()) {
                    batch.add(fromHash(r.get()));
                    if (batch.size() >= batchSize) {
                        consumer.accept(batch);
                        batch = new ArrayList<>(batchSize);
                    }
                }
            }
        }
        if (!batch.isEmpty()) {
            consumer.accept(batch);
        }
    }

    public Set<String> imagesOfPatient(String patientRef) {
        return redis.smembers(patientKey(patientRef));
    }

    /** Records a confirmed outcome on a stored case; false when no case of that image is stored. */
    public boolean setConfirmed(String imageId, boolean positive) {
        if (!exists(imageId)) {
            return false;
        }
        redis.hset(caseKey(imageId), b("confirmed"), b(positive ? "1" : "0"));
        touch(imageId);
        return true;
    }

    /**
     * Opens the patient's alert unless one is open in the window (atomic SET NX, so several service instances and
     * replays never raise two). Returns the open alert, {@code created} telling whether this call opened it.
     */
    public OpenAlert openAlert(String patientRef, String alertId, String imageId, long nowMillis, Duration window) {
        String key = prefix + "alert:" + patientRef;
        String value = alertId + "|" + imageId + "|" + nowMillis;
        String ok = redis.set(key, value, SetParams.setParams().nx().px(window.toMillis()));
        if ("OK".equals(ok)) {
            return new OpenAlert(alertId, imageId, nowMillis, true);
        }
        String existing = redis.get(key);
        if (existing == null) {
            // Expired between the two calls: try once more.
            return openAlert(patientRef, alertId, imageId, nowMillis, window);
        }
        String[] parts = existing.split("\\|");
        return new OpenAlert(parts[0], parts[1], Long.parseLong(parts[2]), false);
    }

    /** What an alert holds so far: how many positive images, and the sites they were taken at (sorted). */
    public record AlertImages(int count, List<String> sites) {
    }

    /**
     * Records a positive image and its site (or, restoring an alert, the sites its event names) in an alert
     * (idempotent, one round trip); returns what the alert holds. The sites are kept so that every site a patient's
     * positive images came from keeps the alert in its view.
     */
    public AlertImages addAlertImage(String alertId, String imageId, List<String> siteIds, Duration window) {
        String images = prefix + "alert-images:" + alertId;
        String sites = prefix + "alert-sites:" + alertId;
        redis.clients.jedis.Response<Long> count;
        redis.clients.jedis.Response<Set<String>> members;
        try (var p = redis.pipelined()) {
            p.sadd(images, imageId);
            p.sadd(sites, siteIds.toArray(String[]::new));
            p.pexpire(images, window.toMillis());
            p.pexpire(sites, window.toMillis());
            count = p.scard(images);
            members = p.smembers(sites);
            p.sync();
        }
        return new AlertImages(count.get().intValue(), members.get().stream().sorted().toList());
    }

    /** Puts back a published alert's open state (recovery); false when the patient already has one open. */
    public boolean restoreAlert(String patientRef, String alertId, String imageId, long firstSeenMillis,
                                Duration remaining) {
        String key = prefix + "alert:" + patientRef;
        return "OK".equals(redis.set(key, alertId + "|" + imageId + "|" + firstSeenMillis,
                SetParams.setParams().nx().px(remaining.toMillis())));
    }

    /**
     * Whether this store holds its data: a marker written once the store was filled (or recovered). Redis restarted
     * without persistence loses it, which tells the service to recover from Kafka.
     */
    public boolean isIntact() {
        return redis.exists(prefix + "store-intact");
    }

    private String heldLabelKey(String kind, String id) {
        return prefix + "held-label:" + kind + ":" + id;
    }

    /**
     * Keeps a confirmed outcome that came before its case (the image still in the pipeline, or a patient's PCR before
     * the X-ray) for {@code ttl}, for the case to take when it is stored ({@link #heldLabel}).
     */
    public void holdLabel(String imageId, String patientRef, boolean positive, Duration ttl) {
        String key = imageId != null ? heldLabelKey("image", imageId) : heldLabelKey("patient", patientRef);
        redis.set(key, positive ? "1" : "0", SetParams.setParams().px(ttl.toMillis()));
    }

    /** The confirmed outcome held for this image, else for its patient (one round trip); null when none. */
    public Boolean heldLabel(String imageId, String patientRef) {
        List<String> held = redis.mget(heldLabelKey("image", imageId), heldLabelKey("patient", patientRef));
        String v = held.get(0) != null ? held.get(0) : held.get(1);
        return v == null ? null : "1".equals(v);
    }

    /**
     * The embedding space (model name and version) of this store's cases: the first one offered is kept (SET NX, so
     * every instance agrees), and that one is returned whatever is offered later.
     */
    public String embeddingSpace(String offered) {
        String key = prefix + "embedding-space";
        redis.set(key, offered, SetParams.setParams().nx());
        String kept = redis.get(key);
        return kept != null ? kept : offered;
    }

    /** Marks the store filled; its value, a fresh id, names this generation of the store (its epoch). */
    public void markIntact() {
        redis.set(prefix + "store-intact", java.util.UUID.randomUUID().toString(), SetParams.setParams().nx());
    }

    /** The store's epoch: changes when Redis lost its data and the store was refilled (null before). */
    public String epoch() {
        return redis.get(prefix + "store-intact");
    }

    private static CaseRecord fromHash(Map<byte[], byte[]> raw) {
        Map<String, byte[]> h = new HashMap<>();
        raw.forEach((k, v) -> h.put(new String(k, StandardCharsets.UTF_8), v));
        byte[] confirmed = h.get("confirmed");
        return new CaseRecord(s(h.get("imageId")), s(h.get("patientRef")), s(h.get("siteId")),
                Long.parseLong(s(h.get("scoredAt"))), Float.parseFloat(s(h.get("probability"))),
                "1".equals(s(h.get("predicted"))), EmbeddingCodec.decode(h.get("embedding")),
                confirmed == null ? null : "1".equals(s(confirmed)));
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
