package org.cxrtriage.common;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.cxrtriage.schemas.Topic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the pipeline's topics (idempotently) and registers their schemas before services start. */
public final class TopicSetup {

    /** Partitions per topic: the upper bound on parallel consumers of one group. */
    public static final String PARTITIONS = "TOPIC_PARTITIONS";
    public static final String REPLICATION = "TOPIC_REPLICATION_FACTOR";
    public static final int DEFAULT_PARTITIONS = 3;
    /** Where Kafka Streams sends records it cannot even deserialize (KIP-1034 dead-letter queue). */
    public static final String DEAD_LETTER_TOPIC = "cxr.deadletter.v1";
    /**
     * Retention (ms, -1 = for good) of the topics that are the record of cases: Redis and the dashboards are rebuilt
     * from them (scores, labels, alerts, acknowledgements), so a broker default of 7 days would silently shrink the
     * neighbour pool, drop confirmed labels and reopen alerts inside their window after Redis lost its data.
     */
    public static final String CASE_RETENTION_MS = "CASE_TOPICS_RETENTION_MS";
    public static final List<Topic<?>> CASE_TOPICS =
            List.of(Topic.SCORES, Topic.LABELS, Topic.ALERTS, Topic.ALERT_ACKS, Topic.RETRACTIONS);
    private static final Logger LOG = LoggerFactory.getLogger(TopicSetup.class);

    private TopicSetup() {
    }

    public static void ensureTopics(Settings settings) {
        int partitions = settings.integer(PARTITIONS, DEFAULT_PARTITIONS);
        short replication = (short) settings.integer(REPLICATION, 1);
        List<String> names = new ArrayList<>();
        Topic.all().forEach(t -> names.add(t.name()));
        names.add(DEAD_LETTER_TOPIC);
        try (Admin admin = Admin.create(KafkaSettings.base(settings, "topic-setup"))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            // Retractions follow the scores topic's partitions (see Topic.RETRACTIONS), whatever it was created with.
            int retractionPartitions = existing.contains(Topic.SCORES.name())
                    ? partitionCount(admin, Topic.SCORES.name()) : partitions;
            List<NewTopic> missing = names.stream().filter(n -> !existing.contains(n))
                    .map(n -> new NewTopic(n, n.equals(Topic.RETRACTIONS.name()) ? retractionPartitions : partitions,
                            replication).configs(configs(n, settings)))
                    .toList();
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            // Topics created just now have the retention already (and a fresh broker may not describe them yet).
            keepCaseTopics(admin, settings, existing);
            if (existing.contains(Topic.SCORES.name()) && existing.contains(Topic.RETRACTIONS.name())) {
                checkCoPartitioned(partitionCount(admin, Topic.SCORES.name()),
                        partitionCount(admin, Topic.RETRACTIONS.name()));
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topics on " + KafkaSettings.bootstrap(settings) + ": " + e, e);
        }
    }

    private static int partitionCount(Admin admin, String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic)
                .partitions().size();
    }

    /**
     * An image's retraction must reach the consumer of its score: both topics keyed by image id, with the same
     * number of partitions (partitions added to one of them break it).
     */
    static void checkCoPartitioned(int scores, int retractions) {
        if (scores != retractions) {
            throw new IllegalStateException(Topic.RETRACTIONS.name() + " has " + retractions + " partitions and "
                    + Topic.SCORES.name() + " " + scores + ": they must be equal, so that an image's retraction "
                    + "reaches the similarity consumer of its score; add partitions to the smaller one "
                    + "(kafka-topics.sh --alter --partitions)");
        }
    }

    /** The settings a topic is created with. */
    static Map<String, String> configs(String topic, Settings settings) {
        Map<String, String> c = new HashMap<>();
        c.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(KafkaSettings.MAX_RECORD_BYTES));
        // The producer's timestamps, whatever the broker's default: ingest finds an unacknowledged image by its own.
        c.put(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "CreateTime");
        if (CASE_TOPICS.stream().anyMatch(t -> t.name().equals(topic))) {
            c.put(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(caseRetentionMs(settings)));
        }
        return c;
    }

    static long caseRetentionMs(Settings settings) {
        long ms = settings.longValue(CASE_RETENTION_MS, -1L);
        if (ms != -1 && ms <= 0) {
            throw new IllegalArgumentException(CASE_RETENTION_MS + " must be -1 (for good) or positive, was " + ms);
        }
        return ms;
    }

    /** Topics created before (or by a broker default) get the case retention too; a change is logged. */
    private static void keepCaseTopics(Admin admin, Settings settings, Set<String> existed) throws Exception {
        String wanted = String.valueOf(caseRetentionMs(settings));
        List<ConfigResource> resources = CASE_TOPICS.stream()
                .filter(t -> existed.contains(t.name()))
                .map(t -> new ConfigResource(
                        ConfigResource.Type.TOPIC, t.name()))
                .toList();
        if (resources.isEmpty()) {
            return;
        }
        Map<ConfigResource, Config> now = null;
        for (int attempt = 1; now == null; attempt++) {
            try {
                now = admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                // Another service created them a moment ago: the broker may not serve them yet.
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
                        || attempt >= 20) {
                    throw e;
                }
                Thread.sleep(250);
            }
        }
        Map<ConfigResource, Collection<AlterConfigOp>>
                changes = new HashMap<>();
        now.forEach((resource, config) -> {
            ConfigEntry retention = config.get(TopicConfig.RETENTION_MS_CONFIG);
            if (retention == null || !wanted.equals(retention.value())) {
                LOG.info("topic {}: retention.ms {} -> {} ({})", resource.name(),
                        retention == null ? "unset" : retention.value(), wanted, CASE_RETENTION_MS);
                changes.put(resource, List.of(new AlterConfigOp(
                        new ConfigEntry(TopicConfig.RETENTION_MS_CONFIG, wanted),
                        AlterConfigOp.OpType.SET)));
            }
        });
        if (!changes.isEmpty()) {
            admin.incrementalAlterConfigs(changes).all().get(30, TimeUnit.SECONDS);
        }
    }

    /** Topics plus schemas (subjects with BACKWARD compatibility). */
    public static Map<String, Integer> ensureAll(Settings settings) {
        ensureTopics(settings);
        return RegistrySettings.registrar(settings).registerAll(Topic.all());
    }
}
