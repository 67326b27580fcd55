package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.cxrtriage.common.ConsumerGroup;
import org.cxrtriage.common.KafkaSettings;
import org.cxrtriage.common.Settings;
import org.cxrtriage.inference.InferenceService;
import org.cxrtriage.preprocess.PreprocessService;
import org.cxrtriage.schemas.Topic;
import org.cxrtriage.similarity.SimilarityService;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunConsumerGroupsTest {

    @TempDir
    Path tempDir;

    @Test
    void aRunGetsGroupsOfItsOwnExceptWhereTheEnvironmentNamesOne() {
        RunConsumerGroups.ForRun run = RunConsumerGroups.name(
                Settings.of(Map.of(InferenceService.GROUP_ID, "site-inference")), "run-7", true);

        assertThat(run.named()).containsExactlyInAnyOrder(
                new ConsumerGroup("cxr-dashboard-images-run-7", List.of(Topic.TENSORS.name())),
                new ConsumerGroup("cxr-preprocess-run-7", List.of(Topic.IMAGES.name())),
                new ConsumerGroup("cxr-similarity-run-7",
                        List.of(Topic.SCORES.name(), Topic.LABELS.name(), Topic.RETRACTIONS.name())));
        assertThat(PreprocessService.consumerGroup(run.settings()).id()).isEqualTo("cxr-preprocess-run-7");
        assertThat(InferenceService.consumerGroup(run.settings()).id()).isEqualTo("site-inference");
        assertThat(SimilarityService.consumerGroup(run.settings()).id()).isEqualTo("cxr-similarity-run-7");
        assertThat(RunConsumerGroups.name(Settings.of(Map.of()), "run-7", false).named())
                .extracting(ConsumerGroup::id).as("no dashboard, no pictures group")
                .containsExactlyInAnyOrder("cxr-preprocess-run-7", "cxr-inference-run-7", "cxr-similarity-run-7");
    }

    @Test
    void aHistoryCarriedOnHasGroupsNamedAfterItAndTheServicesDefaultHistoryTheUsualOnes() {
        assertThat(RunConsumerGroups.historySuffix("cxr:ward-3:")).isEqualTo("cxr-ward-3");
        assertThat(RunConsumerGroups.historySuffix("ED north/2026")).isEqualTo("ED-north-2026");
        assertThat(RunConsumerGroups.historySuffix("::")).isEqualTo("history");
        assertThat(RunConsumerGroups.historySuffix("cxr:")).isNull();
    }

    @Test
    @Tag("e2e")
    void aPlacedGroupReadsOnlyWhatComesAfterAndTopicsNotYetMadeAreLeftOut() throws Exception {
        // Also what a killed run's producers committed after a transaction of theirs that stays open (a read_committed
        // end would stop before that transaction).
        Settings settings = TestStack.isolatedSettings(tempDir);
        String run = UUID.randomUUID().toString();
        String topic = "cxr.run-groups-test-" + run;
        String group = "run-groups-test-" + run;
        try (Admin admin = Admin.create(KafkaSettings.base(settings, "run-groups-test"));
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaSettings.producer(settings,
                     "run-groups-test"), new StringSerializer(), new ByteArraySerializer())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            send(producer, topic, "left-by-earlier-work", 5);
            int placed;
            // It never commits: the broker aborts its transaction after the transaction's timeout.
            try (KafkaProducer<String, byte[]> killed = new KafkaProducer<>(KafkaSettings.transactionalProducer(
                    settings, "run-groups-test-killed", "run-groups-test-" + run), new StringSerializer(),
                    new ByteArraySerializer())) {
                killed.initTransactions();
                killed.beginTransaction();
                killed.send(new ProducerRecord<>(topic, "open-transaction", new byte[] {1})).get();
                send(producer, topic, "committed-after-it", 2);

                placed = RunConsumerGroups.startAtEnd(admin,
                        List.of(new ConsumerGroup(group, List.of(topic, "cxr.not-yet-made-" + run))));
            }

            assertThat(placed).isEqualTo(1);
            // A group that has positions (a history carried on) is not moved.
            assertThat(RunConsumerGroups.startAtEnd(admin, List.of(new ConsumerGroup(group, List.of(topic)))))
                    .isZero();
            try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(KafkaSettings.consumer(settings,
                    "run-groups-test", group), new StringDeserializer(), new ByteArrayDeserializer())) {
                c.subscribe(List.of(topic));
                send(producer, topic, "this-run", 1);
                List<String> keys = new java.util.ArrayList<>();
                // Readable once the broker has aborted the open transaction (its timeout, then the broker's check).
                long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (keys.isEmpty() && System.nanoTime() < until) {
                    c.poll(Duration.ofMillis(200)).forEach(r -> keys.add(r.key()));
                }
                assertThat(keys).containsExactly("this-run");
            }
        }
    }

    private static void send(KafkaProducer<String, byte[]> producer, String topic, String key, int count)
            throws Exception {
        for (int i = 0; i < count; i++) {
            producer.send(new ProducerRecord<>(topic, key, new byte[] {1})).get();
        }
    }
}
