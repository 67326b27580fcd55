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
 * The main job's consumer groups: a set of its own per run, placed at the end of the topics they read before the
 * services start, so that a run reads only its own images. On a stack kept up between runs, the services' usual
 * groups may have records waiting that earlier work left (a run that was interrupted, tests); a run reading them would
 * make an earlier run's images cases of its own fresh history. A group named in the environment is used as it is.
 */
final class RunConsumerGroups {

    /** How long one broker call may take (the broker down: the run stops with this, not a minute later). */
    private static final long TIMEOUT_S = 30;

    private RunConsumerGroups() {
    }

    /** The settings of a run, and the groups of its own that must be placed before the services start. */
    record ForRun(Settings settings, List<ConsumerGroup> fresh) {
    }

    /** Names a group of this run ({@code <usual name>-<runId>}) for each service whose group is not configured. */
    static ForRun name(Settings settings, String runId) {
        List<ConsumerGroup> fresh = new ArrayList<>();
        Settings s = settings;
        Map<String, Function<Settings, ConsumerGroup>> groups = Map.of(
                PreprocessService.APPLICATION_ID, PreprocessService::consumerGroup,
                InferenceService.GROUP_ID, InferenceService::consumerGroup,
                SimilarityService.GROUP_ID, SimilarityService::consumerGroup,
                DashboardService.IMAGES_GROUP_ID, DashboardService::imagesGroup);
        for (var e : new java.util.TreeMap<>(groups).entrySet()) {
            if (settings.optional(e.getKey()).isEmpty()) {
                s = s.with(e.getKey(), e.getValue().apply(settings).id() + "-" + runId);
                fresh.add(e.getValue().apply(s));
            }
        }
        return new ForRun(s, fresh);
    }

    /**
     * Commits, for each group, the end of every partition of the topics it reads (the high watermark: past the records
     * of transactions an earlier run left open, and those committed after them), so the group starts there instead of
     * at the earliest record. Topics that do not exist yet are left out: nothing can be waiting in them. Returns the
     * number of partitions placed.
     */
    static int startAtEnd(Admin admin, List<ConsumerGroup> groups)
            throws InterruptedException, ExecutionException, TimeoutException {
        int placed = 0;
        for (ConsumerGroup group : groups) {
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
