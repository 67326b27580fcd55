package org.cxrtriage.launcher;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.cxrtriage.common.ConsumerGroup;
import org.cxrtriage.common.Settings;
import org.cxrtriage.dashboard.DashboardService;
import org.cxrtriage.inference.InferenceService;
import org.cxrtriage.preprocess.PreprocessService;
import org.cxrtriage.similarity.SimilarityService;

/**
 * The main job's consumer groups: a set per case history, so that a run reads only the images of its history. A run
 * with a fresh history gets groups of its own; a run that carries a history on gets the groups named after it. A new
 * group is placed at the end of the topics it reads before the services start. On a stack kept up between runs, the
 * services' usual groups may have records waiting that earlier work left (a run that was interrupted, tests), and a
 * new group would otherwise start at the earliest record: a run reading them would make other runs' images cases of
 * its history. A group named in the environment is used as it is.
 */
final class RunConsumerGroups {

    private static boolean hasPositions(Admin admin, String group)
            throws InterruptedException, ExecutionException, TimeoutException {
        try {
            Map<TopicPartition, OffsetAndMetadata> at = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(TIMEOUT_S, TimeUnit.SECONDS);
            return at != null && !at.isEmpty();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.GroupIdNotFoundException) {
                return false;
            }
            throw e;
        }
    }

    /** How long one broker call may take (the broker down: the run stops with this, not a minute later). */
    private static final long TIMEOUT_S = 30;

    private RunConsumerGroups() {
    }

    /** The settings of a run, and the groups it named, to be placed before the services start. */
    record ForRun(Settings settings, List<ConsumerGroup> named) {
    }

    /** The services' own default case history: its groups are the services' usual ones. */
    static final String DEFAULT_HISTORY_PREFIX = "cxr:";

    /**
     * The suffix of the groups of a history carried on ({@code cxr:ward-3:} gives {@code cxr-ward-3}); null for the
     * services' default history.
     */
    static String historySuffix(String redisPrefix) {
        if (redisPrefix.equals(DEFAULT_HISTORY_PREFIX)) {
            return null;
        }
        String suffix = redisPrefix.replaceAll("[^A-Za-z0-9._-]+", "-").replaceAll("^-+|-+$", "");
        return suffix.isEmpty() ? "history" : suffix;
    }

    /**
     * Names a group ({@code <usual name>-<suffix>}) for each service of the run whose group is not configured (the
     * dashboard's pictures group only when the run has a dashboard).
     */
    static ForRun name(Settings settings, String suffix, boolean dashboard) {
        List<ConsumerGroup> named = new ArrayList<>();
        Settings s = settings;
        Map<String, Function<Settings, ConsumerGroup>> groups = new java.util.TreeMap<>(Map.of(
                PreprocessService.APPLICATION_ID, PreprocessService::consumerGroup,
                InferenceService.GROUP_ID, InferenceService::consumerGroup,
                SimilarityService.GROUP_ID, SimilarityService::consumerGroup));
        if (dashboard) {
            groups.put(DashboardService.IMAGES_GROUP_ID, DashboardService::imagesGroup);
        }
        for (var e : groups.entrySet()) {
            if (settings.optional(e.getKey()).isEmpty()) {
                s = s.with(e.getKey(), e.getValue().apply(settings).id() + "-" + suffix);
                named.add(e.getValue().apply(s));
            }
        }
        return new ForRun(s, named);
    }

    /**
     * Commits, for each new group (none of its positions committed yet: a history carried on keeps where its groups
     * stand), the end of every partition of the topics it reads (the high watermark: past the records of transactions
     * an earlier run left open, and those committed after them), so the group starts there instead of at the earliest
     * record. Topics that do not exist yet are left out: nothing can be waiting in them. Returns the number of
     * partitions placed.
     */
    static int startAtEnd(Admin admin, List<ConsumerGroup> groups)
            throws InterruptedException, ExecutionException, TimeoutException {
        int placed = 0;
        for (ConsumerGroup group : groups) {
            if (hasPositions(admin, group.id())) {
                continue;
            }
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (String topic : group.topics()) {
                try {
                    admin.describeTopics(List.of(topic)).allTopicNames().get(TIMEOUT_S, TimeUnit.SECONDS).get(topic)
                            .partitions()
                            .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                        throw e;
                    }
                }
            }
            if (latest.isEmpty()) {
                continue;
            }
            Map<TopicPartition, OffsetAndMetadata> ends = new HashMap<>();
            admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all()
                    .get(TIMEOUT_S, TimeUnit.SECONDS)
                    .forEach((tp, info) -> ends.put(tp, new OffsetAndMetadata(info.offset())));
            admin.alterConsumerGroupOffsets(group.id(), ends).all().get(TIMEOUT_S, TimeUnit.SECONDS);
            placed += ends.size();
        }
        return placed;
    }
}
