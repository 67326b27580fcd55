package org.cxrtriage.launcher;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.cxrtriage.common.GuardedPoll;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.RegistrySettings;
import org.cxrtriage.common.Settings;
import org.cxrtriage.schemas.CxrAlert;
import org.cxrtriage.schemas.CxrNeighbours;
import org.cxrtriage.schemas.CxrRejected;
import org.cxrtriage.schemas.CxrScore;
import org.cxrtriage.schemas.Topic;

/** Reads the pipeline's outputs (scores, neighbours, alerts, rejections) back from Kafka, keyed by image id. */
public final class ResultCollector implements AutoCloseable {

    public final Map<String, CxrScore> scores = new ConcurrentHashMap<>();
    public final Map<String, CxrNeighbours> neighbours = new ConcurrentHashMap<>();
    public final Map<String, CxrRejected> rejected = new ConcurrentHashMap<>();
    public final List<CxrAlert> alerts = new CopyOnWriteArrayList<>();

    /** The longest a result waits in the broker before the collector fetches it. */
    static final Duration FETCH_WAIT = Duration.ofMillis(200);

    private final KafkaConsumer<String, SpecificRecord> consumer;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long lastRecordAt = System.currentTimeMillis();

    @SuppressWarnings({"unchecked", "rawtypes"})
    public ResultCollector(Settings settings) {
        // A fresh group reading from the beginning: the caller filters by the image ids it sent.
        Properties p = KafkaSettings.consumer(settings, "result-collector", "cxr-results-" + UUID.randomUUID());
        // Records carry the times the services wrote into them, so reading them late changes no figure. Fetching them
        // in batches, at most FETCH_WAIT apart, takes less CPU from the pipeline being measured than one fetch per
        // record (at half load in the benchmark, a fetch each for nearly every score, neighbour list and alert).
        p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 1 << 20);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, (int) FETCH_WAIT.toMillis());
        Deserializer<SpecificRecord> any = (Deserializer) RegistrySettings.serdes(settings).deserializer(Topic.SCORES);
        consumer = new KafkaConsumer<>(p, new StringDeserializer(), any);
        consumer.subscribe(List.of(Topic.SCORES.name(), Topic.NEIGHBOURS.name(), Topic.ALERTS.name(),
                Topic.REJECTED.name()));
        thread = new Thread(this::run, "result-collector");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            GuardedPoll guard = GuardedPoll.uncounted();
            while (running) {
                for (ConsumerRecord<String, SpecificRecord> r : guard.poll(consumer, Duration.ofMillis(200))) {
                    lastRecordAt = System.currentTimeMillis();
                    SpecificRecord v = r.value();
                    if (v instanceof CxrScore s) {
                        scores.put(s.getImageId(), s);
                    } else if (v instanceof CxrNeighbours n) {
                        neighbours.put(n.getImageId(), n);
                    } else if (v instanceof CxrAlert a) {
                        alerts.add(a);
                    } else if (v instanceof CxrRejected x) {
                        rejected.put(x.getImageId(), x);
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } finally {
            consumer.close();
        }
    }

    /** True when the image has come out at the back: scored with neighbours, or rejected. */
    public boolean done(String imageId) {
        return rejected.containsKey(imageId) || (scores.containsKey(imageId) && neighbours.containsKey(imageId));
    }

    /**
     * Waits until every id is done or nothing has progressed for {@code stallTimeout}; reports progress.
     * Returns the ids still missing.
     */
    public Set<String> await(Set<String> ids, Duration stallTimeout, Consumer<Integer> progress)
            throws InterruptedException {
        int lastDone = -1;
        long lastChange = System.currentTimeMillis();
        while (true) {
            int doneCount = (int) ids.stream().filter(this::done).count();
            if (doneCount != lastDone) {
                lastDone = doneCount;
                lastChange = System.currentTimeMillis();
                progress.accept(doneCount);
            }
            if (doneCount == ids.size() || System.currentTimeMillis() - lastChange > stallTimeout.toMillis()) {
                break;
            }
            Thread.sleep(200);
        }
        List<String> missing = new ArrayList<>();
        ids.stream().filter(id -> !done(id)).forEach(missing::add);
        return Set.copyOf(missing);
    }

    /**
     * Waits until no output has arrived for {@code quiet} (at most {@code max}): alerts and neighbours of the last
     * images can trail their scores by a poll, since they live on other partitions.
     */
    public void awaitQuiet(Duration quiet, Duration max) throws InterruptedException {
        long deadline = System.currentTimeMillis() + max.toMillis();
        while (System.currentTimeMillis() - lastRecordAt < quiet.toMillis() && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
    }

    /** Every alert event (OPENED, UPDATED, RETRACTED) about these images. */
    public List<CxrAlert> alertsFor(Set<String> imageIds) {
        return alerts.stream().filter(a -> imageIds.contains(a.getImageId())).toList();
    }

    /** The alerts opened by these images (one per patient per window). */
    public List<CxrAlert> openedAlertsFor(Set<String> imageIds) {
        return alertsFor(imageIds).stream().filter(a -> a.getEvent() == org.cxrtriage.schemas.AlertEvent.OPENED)
                .toList();
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
