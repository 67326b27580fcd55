package org.cxrtriage.common;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.cxrtriage.schemas.Topic;

/** Creates the pipeline's topics (idempotently) and registers their schemas before services start. */
public final class TopicSetup {

    /** Partitions per topic: the upper bound on parallel consumers of one group. */
    public static final String PARTITIONS = "TOPIC_PARTITIONS";
    public static final String REPLICATION = "TOPIC_REPLICATION_FACTOR";
    public static final int DEFAULT_PARTITIONS = 3;
    /** Where Kafka Streams sends records it cannot even deserialize (KIP-1034 dead-letter queue). */
    public static final String DEAD_LETTER_TOPIC = "cxr.deadletter.v1";

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
            List<NewTopic> missing = names.stream().filter(n -> !existing.contains(n))
                    .map(n -> new NewTopic(n, partitions, replication)
                            .configs(Map.of("max.message.bytes", String.valueOf(KafkaSettings.MAX_RECORD_BYTES))))
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
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topics on " + KafkaSettings.bootstrap(settings) + ": " + e, e);
        }
    }

    /** Topics plus schemas (subjects with BACKWARD compatibility). */
    public static Map<String, Integer> ensureAll(Settings settings) {
        ensureTopics(settings);
        return RegistrySettings.registrar(settings).registerAll(Topic.all());
    }
}
