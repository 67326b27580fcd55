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

    /**
     * What the store's writes require: a store generation ({@link #epoch}) while a batch is processed, {@link
     * #RECOVERING} and a recovery's token while one fills the store, or null for no check (tests, imports).
     */
    private volatile String requiredEpoch;

    /**
     * Thrown when a write is refused because the store is not what the writer works on: Redis lost its data (or
     * another instance refilled it) while a batch was processed, so the batch is aborted and processed again after
     * the recovery; or, during a recovery, another instance finished filling the store, or Redis lost its data again.
     */
    public static final class StoreReplacedException extends IllegalStateException {
        StoreReplacedException() {
            super("the case store is not the one this work began on (Redis lost its data, or another instance "
                    + "filled it); the work is done again");
        }
    }

    private static final String REPLACED = "CXR_STORE_REPLACED";
    /** Marks a requirement of a recovery: the store not yet filled and the recovery's token present. */
    private static final String RECOVERING = "recovering:";

    /**
     * Lua, first in every script that writes what events are decided on: refuses to run when the store is not the
     * one the caller works on (ARGV[1]: "" for no check; a generation the store must be of; or "recovering:" and a
     * token: the store must not be filled yet and the token's key, {@code store-recovering:<token>}, present).
     * KEYS[1] is the generation's key, {@code <prefix>store-intact}, from which the token's key is derived.
     */
    private static final String GUARD = "if ARGV[1] ~= '' then "
            + "  local cur = redis.call('GET', KEYS[1]) "
            + "  if string.sub(ARGV[1], 1, " + RECOVERING.length() + ") == '" + RECOVERING + "' then "
            + "    if cur or redis.call('EXISTS', string.sub(KEYS[1], 1, -13) .. 'store-' .. ARGV[1]) == 0 then "
            + "      return redis.error_reply('" + REPLACED + "') end "
            + "  elseif cur ~= ARGV[1] then return redis.error_reply('" + REPLACED + "') end "
            + "end ";

    /**
     * From now on the writes that decide events (cases, alert joins, retractions, labels) run only while the store is
     * of generation {@code epoch}; null: no check.
     */
    public void requireEpoch(String epoch) {
        requiredEpoch = epoch;
    }

    /** Throws {@link StoreReplacedException} when the store is no longer of the required generation. */
    public void verifyEpoch() {
        String required = requiredEpoch;
        if (required != null && !required.startsWith(RECOVERING) && !required.equals(epoch())) {
            throw new StoreReplacedException();
        }
    }

    private String intactKey() {
        return prefix + "store-intact";
    }

    private String requiredOrNone() {
        String required = requiredEpoch;
        return required == null ? "" : required;
    }

    /** Runs a guarded script: KEYS[1] and ARGV[1] are the generation's key and the required one. */
    private Object evalGuarded(String script, List<String> keys, List<String> args) {
        List<String> k = new ArrayList<>(keys.size() + 1);
        k.add(intactKey());
        k.addAll(keys);
        List<String> a = new ArrayList<>(args.size() + 1);
        a.add(requiredOrNone());
        a.addAll(args);
        return refusedWhenReplaced(() -> redis.eval(script, k, a));
    }

    private static <T> T refusedWhenReplaced(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (redis.clients.jedis.exceptions.JedisDataException e) {
            if (e.getMessage() != null && e.getMessage().contains(REPLACED)) {
                throw new StoreReplacedException();
            }
            throw e;
        }
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
     * Files a case unless its image was retracted, in one step: checked and written in two calls, a retraction
     * between them (another instance, or one that lost its partitions and has not noticed) would be undone. KEYS
     * (after the guard's): retraction marker, case, cases, patient's images, sequence, changes; ARGV (after the
     * guard's): image id, scored-at, then the case's fields and values.
     */
    private static final String SAVE = GUARD + "if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end "
            + "redis.call('HSET', KEYS[3], unpack(ARGV, 4)) "
            + "redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2]) redis.call('SADD', KEYS[5], ARGV[2]) "
            + "local seq = redis.call('INCR', KEYS[6]) redis.call('ZADD', KEYS[7], seq, ARGV[2]) return seq";

    /**
     * Stores a case; returns its change sequence number (see {@link #changedSince}), or -1 when its image was retracted
     * (then nothing is stored).
     */
    public long save(CaseRecord c) {
        // One round trip (this runs for every scored image); the case is written before its change number is taken.
        List<byte[]> args = new ArrayList<>();
        args.add(b(requiredOrNone()));
        args.add(b(c.imageId()));
        args.add(b(Long.toString(c.scoredAtMillis())));
        hash(c).forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        return (Long) refusedWhenReplaced(() -> redis.eval(b(SAVE), List.of(b(intactKey()),
                b(retractedKey(c.imageId())), caseKey(c.imageId()), b(casesKey()), b(patientKey(c.patientRef())),
                b(seqKey()), b(changesKey())), args));
    }

    private String seqKey() {
        return prefix + "case-seq";
    }

    private String changesKey() {
        return prefix + "case-changes";
    }

    /** Where the store is: its latest change number (0 when none) and its generation ({@link #epoch}; null: none). */
    public record Position(long lastChange, String epoch) {
    }

    /** The store's {@link Position}, in one round trip. */
    public Position position() {
        List<String> v = redis.mget(seqKey(), intactKey());
        return new Position(v.get(0) == null ? 0 : Long.parseLong(v.get(0)), v.get(1));
    }

    /** The sequence number of the latest change (0 when none). */
    public long lastChange() {
        String v = redis.get(seqKey());
        return v == null ? 0 : Long.parseLong(v);
    }

    /**
     * A case changed after some sequence number, with the number of its latest change; {@code record} null: the case
     * was removed (its image retracted).
     */
    public record Change(long seq, String imageId, CaseRecord record) {
    }

    /**
     * The cases added, relabelled or removed after {@code seq}, in change order (how instances keep their indexes
     * equal).
     */
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
                out.add(new Change((long) part.get(i).getScore(), part.get(i).getElement(),
                        fromHashOrNull(replies.get(i).get())));
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

    /** Removes every case of this store's prefix, and the retraction markers. */
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
        List<String> keys = new ArrayList<>();
        redis.keys(prefix + "patient:*").forEach(keys::add);
        redis.keys(prefix + "retracted*").forEach(keys::add); // the markers and their sites
        for (int from = 0; from < keys.size(); from += BATCH) {
            redis.del(keys.subList(from, Math.min(keys.size(), from + BATCH)).toArray(String[]::new));
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
        return Optional.ofNullable(fromHashOrNull(redis.hgetAll(caseKey(imageId))));
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
                CaseRecord c = fromHashOrNull(r.get());
                if (c != null) {
                    batch.add(c);
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

    /**
     * KEYS (after the guard's): case, sequence, changes; ARGV (after the guard's): image id, label. One step: a case
     * checked and then written in two calls could be removed between them (a retraction), and the write would leave
     * a fragment of it.
     */
    private static final String CONFIRM = GUARD + "if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end "
            + "redis.call('HSET', KEYS[2], 'confirmed', ARGV[3]) "
            + "local seq = redis.call('INCR', KEYS[3]) redis.call('ZADD', KEYS[4], seq, ARGV[2]) return 1";

    /** Records a confirmed outcome on a stored case; false when no case of that image is stored. */
    public boolean setConfirmed(String imageId, boolean positive) {
        return (Long) evalGuarded(CONFIRM, List.of(new String(caseKey(imageId), StandardCharsets.UTF_8), seqKey(),
                changesKey()), List.of(imageId, positive ? "1" : "0")) == 1L;
    }

    /**
     * What an alert holds so far: how many positive images, and the sites they were taken at (sorted), as of its
     * {@code revision}: 1 when it opened, one more for every image that joined or left it (0: not known, an alert
     * opened before revisions were kept).
     */
    public record AlertImages(int count, List<String> sites, long revision) {
    }

    /**
     * Opens the patient's alert or joins the open one, and adds the image and its site to it, unless the image was
     * retracted: one step, so a retraction that closes the alert comes wholly before (the image opens a new alert) or
     * after (it sees this image in the alert). The first score record of the image to join is kept: another record of
     * the same image (the image published twice under one id) joins nothing and gets 0, so its alert event is not
     * repeated; the same record again (a replayed batch) gets its answer again. The alert's revision grows only when
     * the image is new to it: a replay gets the current one, with the count and sites of that revision. The image
     * remembers its alert, and the alert its images, sites and revision, for the retraction window (at least the
     * alert window, from the latest join): a retraction after the alert closed still takes the image out of it. An
     * image that an aborted attempt put in an alert closed since, processed again (the same score record, whose
     * joining record is kept), leaves that alert for the new one; another record of it after the window joins the
     * new alert and stays in the old one too.
     * KEYS (after the guard's): the image's retraction marker, the patient's alert, the image's joining record, the
     * image's alert; ARGV (after the guard's): the new alert's value, window ms, image id, key prefix, site, the
     * score record's id ("" for none: no check), retraction window ms.
     */
    private static final String JOIN = GUARD + "if redis.call('EXISTS', KEYS[2]) == 1 then return false end "
            + "local seen = false "
            + "if ARGV[7] ~= '' then "
            + "  seen = redis.call('GET', KEYS[4]) "
            + "  if seen and seen ~= ARGV[7] then return 0 end "
            + "  if not seen then redis.call('SET', KEYS[4], ARGV[7], 'PX', ARGV[3]) end "
            + "end "
            + "local v = redis.call('GET', KEYS[3]) "
            + "if not v then v = ARGV[2] redis.call('SET', KEYS[3], v, 'PX', ARGV[3]) end "
            + "local id = string.match(v, '^[^|]*') "
            + "local prior = redis.call('GET', KEYS[5]) "
            + "if prior and seen == ARGV[7] and string.match(prior, '^[^|]*') ~= id then "
            + "  redis.call('SREM', ARGV[5] .. 'alert-images:' .. string.match(prior, '^[^|]*'), ARGV[4]) end "
            + "local images = ARGV[5] .. 'alert-images:' .. id local sites = ARGV[5] .. 'alert-sites:' .. id "
            + "local revision = ARGV[5] .. 'alert-revision:' .. id "
            + "local rev "
            + "if redis.call('SADD', images, ARGV[4]) == 1 then rev = redis.call('INCR', revision) "
            + "else rev = tonumber(redis.call('GET', revision) or '0') end "
            + "redis.call('SADD', sites, ARGV[6]) "
            + "redis.call('SET', KEYS[5], v, 'PX', ARGV[8]) "
            + "redis.call('PEXPIRE', images, ARGV[8]) redis.call('PEXPIRE', sites, ARGV[8]) "
            + "redis.call('PEXPIRE', revision, ARGV[8]) "
            + "return {v, redis.call('SCARD', images), redis.call('SMEMBERS', sites), rev}";

    /**
     * The patient's open alert and what it holds once this image joined it; {@code alert} null when another score
     * record of the same image joined first (nothing to publish).
     */
    public record JoinedAlert(OpenAlert alert, AlertImages images) {

        public boolean repeated() {
            return alert == null;
        }
    }

    /**
     * Opens the patient's alert (as {@code alertId}) unless one is open in the window, and records the image and its
     * site in it (idempotent: replays and several instances never raise two); what the alert holds is kept for
     * {@code retractable} (at least the window) so that a later retraction can take the image out. Empty when the
     * image was retracted; {@link JoinedAlert#repeated()} when another score record of the image ({@code recordId},
     * null for no check) joined first.
     */
    public Optional<JoinedAlert> joinAlert(String patientRef, String alertId, String imageId, String siteId,
                                           long nowMillis, Duration window, Duration retractable, String recordId) {
        Object reply = evalGuarded(JOIN, List.of(retractedKey(imageId), prefix + "alert:" + patientRef,
                        prefix + "alerted:" + imageId, alertOfKey(imageId)),
                List.of(alertId + "|" + imageId + "|" + nowMillis, Long.toString(window.toMillis()), imageId, prefix,
                        siteId, recordId == null ? "" : recordId, Long.toString(keep(window, retractable).toMillis())));
        if (reply == null) {
            return Optional.empty();
        }
        if (reply instanceof Long) {
            return Optional.of(new JoinedAlert(null, null));
        }
        List<?> parts = (List<?>) reply;
        String[] open = ((String) parts.get(0)).split("\\|");
        @SuppressWarnings("unchecked")
        List<String> sites = ((List<String>) parts.get(2)).stream().sorted().toList();
        return Optional.of(new JoinedAlert(new OpenAlert(open[0], open[1], Long.parseLong(open[2]),
                open[0].equals(alertId)), new AlertImages(((Long) parts.get(1)).intValue(), sites, (Long) parts.get(3))));
    }

    /** How long an alert's images are kept after a join: the retraction window, and at least the alert window. */
    static Duration keep(Duration window, Duration retractable) {
        return retractable.compareTo(window) > 0 ? retractable : window;
    }

    /** The alert an image joined ("alertId|opener|firstSeen"), kept for the retraction window. */
    private String alertOfKey(String imageId) {
        return prefix + "alert-of:" + imageId;
    }

    /**
     * Puts a published OPENED or UPDATED event's image back in its alert (recovery, in topic order; idempotent, one
     * step). KEYS (after the guard's): the alert's images, its sites, its revision, the image's alert; ARGV (after
     * the guard's): image id, the event's revision, how long to keep them in ms, the alert's value
     * ("alertId|opener|firstSeen"), the image's site, the sites the event names. The image remembers its alert (a
     * retraction after the alert closed finds it). The alert's revision becomes at least the event's, and the image
     * goes in (also when it was retracted: recovery marks the retracted images first, and the image's RETRACTED event,
     * always later in the topic than its own OPENED or UPDATED one, takes it out again and closes the alert when it
     * was the last). The event's sites become the alert's when its revision is higher than any restored before it
     * (they are the sites of every image in the alert at that revision: a retraction of a lower revision restored
     * earlier may not have narrowed them yet); they are added at an equal revision; only the image's own site is
     * added when an event of a higher revision came first (two instances committed out of order: a retraction that
     * narrowed the sites). Events without revisions (0) only add. This holds because an event's sites cover the sites
     * of every image in the alert at its revision (a retraction narrows them only to the sites of the images left).
     * Returns {count, sites, revision}.
     */
    private static final String RESTORE_JOIN = GUARD + "local cur = tonumber(redis.call('GET', KEYS[4]) or '0') "
            + "local rev = tonumber(ARGV[3]) "
            + "if rev > cur then redis.call('SET', KEYS[4], ARGV[3], 'PX', ARGV[4]) end "
            + "redis.call('SADD', KEYS[2], ARGV[2]) redis.call('SET', KEYS[5], ARGV[5], 'PX', ARGV[4]) "
            + "if rev > cur and #ARGV > 6 then redis.call('DEL', KEYS[3]) end "
            + "if rev >= cur and #ARGV > 6 then redis.call('SADD', KEYS[3], ARGV[6], unpack(ARGV, 7)) "
            + "else redis.call('SADD', KEYS[3], ARGV[6]) end "
            + "redis.call('PEXPIRE', KEYS[2], ARGV[4]) redis.call('PEXPIRE', KEYS[3], ARGV[4]) "
            + "return {redis.call('SCARD', KEYS[2]), redis.call('SMEMBERS', KEYS[3]), math.max(rev, cur)}";

    /**
     * Recovery: puts a published alert event's image ({@code imageId}, taken at {@code siteId}) back in its alert
     * ({@code alert}: its id, opener and first-seen time), with the sites the event names ({@code eventSites}; see
     * {@link #RESTORE_JOIN}), kept for {@code keep}; returns what the alert holds then. The sites are kept so that
     * every site a patient's positive images came from keeps the alert in its view.
     */
    public AlertImages restoreAlertImage(OpenAlert alert, String imageId, String siteId, List<String> eventSites,
                                         long revision, Duration keep) {
        String alertId = alert.alertId();
        List<String> args = new ArrayList<>(List.of(imageId, Long.toString(revision), Long.toString(keep.toMillis()),
                alertId + "|" + alert.imageId() + "|" + alert.firstSeenMillis(), siteId));
        args.addAll(eventSites);
        List<?> reply = (List<?>) evalGuarded(RESTORE_JOIN, List.of(prefix + "alert-images:" + alertId,
                prefix + "alert-sites:" + alertId, revisionKey(alertId), alertOfKey(imageId)), args);
        @SuppressWarnings("unchecked")
        List<String> sites = ((List<String>) reply.get(1)).stream().sorted().toList();
        return new AlertImages(((Long) reply.get(0)).intValue(), sites, (Long) reply.get(2));
    }

    private String revisionKey(String alertId) {
        return prefix + "alert-revision:" + alertId;
    }

    private String retractedKey(String imageId) {
        return prefix + "retracted:" + imageId;
    }

    /** Whether the image's site withdrew it (its score, should it come, is dropped). */
    public boolean isRetracted(String imageId) {
        return redis.exists(retractedKey(imageId));
    }

    /**
     * All of a retraction in one step (a script runs atomically), so a batch aborted half-way and processed again finds
     * the same outcome: the marker, once set, holds the retraction record that set it and what it did (and the
     * retraction's sites key the sites it named); the same record gets that outcome again, another record of the same
     * image (a retraction sent twice) gets nothing (false), as the alert may have changed since. Otherwise the case
     * goes (with a change number, so every instance drops it from its index) and the image leaves the alert it joined
     * (kept for the retraction window, also after the alert closed; for an image that joined before that was kept,
     * its patient's open alert). When no image is left the alert is withdrawn (and closed, when it is the patient's
     * open one); its sites are the ones it had. Else its sites become those of the images left (when every one of
     * them is a stored case), so a site that sent the image to the wrong patient no longer sees the alert. The patient
     * is the stored case's when there is one (the retraction's otherwise). Returns "" or
     * "patientRef|alertId|opener|firstSeen|imagesLeft|probability|revision" (the alert's revision after the image
     * left it; markers written before revisions were kept end at the probability). KEYS (after the guard's): marker,
     * case, cases, sequence, changes, the retraction's sites, the image's alert; ARGV (after the guard's): image id,
     * key prefix, the retraction's patient, the retraction record's id. The alert's keys are derived from the prefix
     * inside (standalone Redis, as the rest of the store).
     */
    private static final String RETRACT = GUARD + "local done = redis.call('GET', KEYS[2]) "
            + "if done then "
            + "  local mark = ARGV[5] .. '#' "
            + "  if string.sub(done, 1, string.len(mark)) == mark then "
            + "    return string.sub(done, string.len(mark) + 1) end "
            + "  return false "
            + "end "
            + "local patient = redis.call('HGET', KEYS[3], 'patientRef') or ARGV[4] "
            + "local probability = redis.call('HGET', KEYS[3], 'probability') or 'NaN' "
            + "local outcome = '' "
            + "if redis.call('DEL', KEYS[3]) == 1 then "
            + "  redis.call('ZREM', KEYS[4], ARGV[2]) redis.call('SREM', ARGV[3] .. 'patient:' .. patient, ARGV[2]) "
            + "  local seq = redis.call('INCR', KEYS[5]) redis.call('ZADD', KEYS[6], seq, ARGV[2]) "
            + "end "
            + "local alertKey = ARGV[3] .. 'alert:' .. patient "
            + "local open = redis.call('GET', alertKey) "
            + "local joined = redis.call('GET', KEYS[8]) "
            + "local alert = joined or open "
            + "if alert then "
            + "  local id = string.match(alert, '^[^|]*') "
            + "  local images = ARGV[3] .. 'alert-images:' .. id local sitesKey = ARGV[3] .. 'alert-sites:' .. id "
            + "  if redis.call('SREM', images, ARGV[2]) == 1 then "
            + "    local left = redis.call('SCARD', images) "
            + "    local sites = redis.call('SMEMBERS', sitesKey) "
            + "    local revKey = ARGV[3] .. 'alert-revision:' .. id "
            + "    local rev = redis.call('INCR', revKey) "
            + "    if left == 0 then "
            + "      if open and string.match(open, '^[^|]*') == id then redis.call('DEL', alertKey) end "
            + "      redis.call('DEL', sitesKey, revKey) "
            + "    else "
            + "      local revTtl = redis.call('PTTL', images) "
            + "      if revTtl <= 0 then revTtl = redis.call('PTTL', alertKey) end "
            + "      if revTtl > 0 then redis.call('PEXPIRE', revKey, revTtl) end "
            + "      local kept = {} local complete = true "
            + "      for _, img in ipairs(redis.call('SMEMBERS', images)) do "
            + "        local site = redis.call('HGET', ARGV[3] .. 'case:' .. img, 'siteId') "
            + "        if site then kept[#kept + 1] = site else complete = false end "
            + "      end "
            + "      if complete then "
            + "        local ttl = redis.call('PTTL', images) "
            + "        redis.call('DEL', sitesKey) redis.call('SADD', sitesKey, unpack(kept)) "
            + "        if ttl > 0 then redis.call('PEXPIRE', sitesKey, ttl) end "
            + "        sites = kept "
            + "      end "
            + "    end "
            + "    if #sites > 0 then redis.call('SADD', KEYS[7], unpack(sites)) end "
            + "    outcome = patient .. '|' .. alert .. '|' .. left .. '|' .. probability .. '|' .. rev "
            + "  end "
            + "end "
            + "redis.call('DEL', KEYS[8]) "
            + "redis.call('SET', KEYS[2], ARGV[5] .. '#' .. outcome) "
            + "return outcome";

    /**
     * What a retraction did to an alert: took the image (of probability {@code probability}, NaN when it was never a
     * case) out of alert {@code alertId} of {@code patientRef} (opened by {@code openerImageId} at {@code
     * firstSeenMillis}), leaving {@code imagesLeft} images (0: the alert is closed) taken at {@code sites} (when none
     * is left: the sites the alert had), as of the alert's {@code revision} (see {@link AlertImages}).
     */
    public record Retraction(String patientRef, String alertId, String openerImageId, long firstSeenMillis,
                             int imagesLeft, float probability, List<String> sites, long revision) {
    }

    /**
     * Withdraws an image: marks it retracted, removes its case, and takes it out of the alert it joined (also one
     * closed since, within the retraction window). Returns what that did to the alert (empty when the image was in
     * none); the same again when the same retraction record ({@code recordId}, e.g. its partition and offset) comes
     * again, nothing for another record of the image.
     */
    public Optional<Retraction> retract(String imageId, String patientRef, String recordId) {
        String sitesKey = prefix + "retracted-sites:" + imageId;
        String outcome = (String) evalGuarded(RETRACT,
                List.of(retractedKey(imageId), new String(caseKey(imageId), StandardCharsets.UTF_8), casesKey(),
                        seqKey(), changesKey(), sitesKey, alertOfKey(imageId)),
                List.of(imageId, prefix, patientRef, recordId));
        if (outcome == null || outcome.isEmpty()) {
            return Optional.empty();
        }
        String[] parts = outcome.split("\\|");
        List<String> sites = redis.smembers(sitesKey).stream().sorted().toList();
        return Optional.of(new Retraction(parts[0], parts[1], parts[2], Long.parseLong(parts[3]),
                Integer.parseInt(parts[4]), Float.parseFloat(parts[5]), sites,
                parts.length > 6 ? Long.parseLong(parts[6]) : 0));
    }

    /**
     * KEYS (after the guard's): the alert's images, its sites, the patient's alert, its revision, the image's alert;
     * ARGV (after the guard's): image id, images left, alert id, how long the alert's keys are kept in ms, the event's
     * revision, the sites left. Replays a RETRACTED event: the image forgets its alert; the alert's revision becomes
     * at least the event's (also when the alert never held the image: an orphan event readers saw);
     * when the alert holds the image, it leaves; none left closes the patient's alert if it is this one; else, unless
     * an event of a higher revision was restored before this one (two instances committed out of order), the
     * alert's sites become the event's.
     */
    private static final String RESTORE_RETRACTION = GUARD
            + "local cur = tonumber(redis.call('GET', KEYS[5]) or '0') "
            + "local rev = tonumber(ARGV[6]) "
            + "if rev > cur then redis.call('SET', KEYS[5], ARGV[6], 'PX', ARGV[5]) end "
            + "redis.call('DEL', KEYS[6]) "
            + "if redis.call('SREM', KEYS[2], ARGV[2]) == 0 then return 0 end "
            + "if ARGV[3] == '0' then "
            + "  local v = redis.call('GET', KEYS[4]) "
            + "  if v and string.sub(v, 1, string.len(ARGV[4]) + 1) == ARGV[4] .. '|' then "
            + "    redis.call('DEL', KEYS[4], KEYS[3], KEYS[5]) end "
            + "elseif #ARGV > 6 and rev >= cur then "
            + "  local ttl = redis.call('PTTL', KEYS[2]) "
            + "  if ttl <= 0 then ttl = tonumber(ARGV[5]) end "
            + "  redis.call('DEL', KEYS[3]) redis.call('SADD', KEYS[3], unpack(ARGV, 7)) "
            + "  redis.call('PEXPIRE', KEYS[3], ttl) "
            + "end return 1";

    /**
     * Replays a published retraction of an image out of an alert (recovery): the image leaves the alert's images; the
     * patient's open alert goes when the event says none is left, else the alert's sites become the event's.
     */
    public void restoreRetraction(String alertId, String patientRef, String imageId, int imagesLeft,
                                  List<String> sitesLeft, long revision, Duration keep) {
        List<String> args = new ArrayList<>(List.of(imageId, Integer.toString(imagesLeft), alertId,
                Long.toString(keep.toMillis()), Long.toString(revision)));
        args.addAll(sitesLeft);
        evalGuarded(RESTORE_RETRACTION, List.of(prefix + "alert-images:" + alertId, prefix + "alert-sites:" + alertId,
                prefix + "alert:" + patientRef, revisionKey(alertId), alertOfKey(imageId)), args);
    }

    /**
     * Recovery: the image's alert event was published (so its score record was committed and will not come again):
     * any other score record of the image joins nothing ({@link #joinAlert}).
     */
    public void restoreAlerted(String imageId, Duration remaining) {
        evalGuarded(GUARD + "redis.call('SET', KEYS[2], 'restored', 'PX', ARGV[2]) return 1",
                List.of(prefix + "alerted:" + imageId), List.of(Long.toString(remaining.toMillis())));
    }

    /**
     * A score record that joined its image's alert and then, processed again after an abort, no longer alerts (the
     * decision depends on neighbours that changed meanwhile): another record of the image may join instead.
     */
    public void forgetAlerted(String imageId, String recordId) {
        redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
                List.of(prefix + "alerted:" + imageId), List.of(recordId));
    }

    /** Puts back a published alert's open state (recovery); false when the patient already has one open. */
    public boolean restoreAlert(String patientRef, String alertId, String imageId, long firstSeenMillis,
                                Duration remaining) {
        return (Long) evalGuarded(GUARD + "if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then "
                        + "return 1 end return 0", List.of(prefix + "alert:" + patientRef),
                List.of(alertId + "|" + imageId + "|" + firstSeenMillis, Long.toString(remaining.toMillis()))) == 1L;
    }

    /**
     * Whether this store holds its data: a marker written once the store was filled (or recovered). Redis restarted
     * without persistence loses it, which tells the service to recover from Kafka.
     */
    public boolean isIntact() {
        return redis.exists(intactKey());
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
        redis.set(intactKey(), java.util.UUID.randomUUID().toString(), SetParams.setParams().nx());
    }

    /**
     * Starts a recovery: returns a token kept in Redis. Until {@link #finishRecovery} the store's writes (the restores
     * too) are refused ({@link StoreReplacedException}) once another instance has filled the store, or once Redis
     * lost its data again (the token is gone with it).
     */
    public String beginRecovery() {
        String token = java.util.UUID.randomUUID().toString();
        redis.set(prefix + "store-" + RECOVERING + token, "1", SetParams.setParams().px(Duration.ofDays(1).toMillis()));
        requiredEpoch = RECOVERING + token;
        return token;
    }

    /**
     * Ends a recovery: marks the store filled ({@link #markIntact}; no change when another instance did first),
     * unless Redis lost its data again since {@link #beginRecovery} gave {@code token} (false: what was restored
     * before that is gone; recover again). Writes are unchecked afterwards until {@link #requireEpoch}.
     */
    public boolean finishRecovery(String token) {
        requiredEpoch = null;
        return (Long) redis.eval("if redis.call('DEL', KEYS[1]) == 0 then return 0 end "
                + "redis.call('SET', KEYS[2], ARGV[1], 'NX') return 1",
                List.of(prefix + "store-" + RECOVERING + token, intactKey()),
                List.of(java.util.UUID.randomUUID().toString())) == 1L;
    }

    /** Gives a recovery up (its writes were refused): forgets its token; writes are unchecked until required again. */
    public void abandonRecovery(String token) {
        requiredEpoch = null;
        redis.del(prefix + "store-" + RECOVERING + token);
    }

    /** The store's epoch: changes when Redis lost its data and the store was refilled (null before). */
    public String epoch() {
        return redis.get(intactKey());
    }

    /** The case in a stored hash; null when there is none, or only a fragment (no image id, time or embedding). */
    private static CaseRecord fromHashOrNull(Map<byte[], byte[]> raw) {
        Map<String, byte[]> h = new HashMap<>();
        raw.forEach((k, v) -> h.put(new String(k, StandardCharsets.UTF_8), v));
        if (h.get("imageId") == null || h.get("scoredAt") == null || h.get("embedding") == null) {
            return null;
        }
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
