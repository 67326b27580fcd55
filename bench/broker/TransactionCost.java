import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * What one operation costs the local broker in CPU: a plain produce, a transaction with one record, and a transaction
 * that also commits consumer offsets (what the pipeline's services run per batch). Each round runs N operations one
 * after the other and divides the broker process's CPU time (/proc/PID/stat) by N. Repeat the rounds until the
 * broker's JIT has settled (the first rounds cost several times more).
 *
 * <pre>
 * eval "$(scripts/stack.sh env)"
 * java -cp "launcher/target/lib/*" bench/broker/TransactionCost.java $(cat .stack/kafka/kafka.pid) 1000 \
 *     plain,txn,txn+offsets,plain,txn,txn+offsets [pause ms between operations]
 * </pre>
 * 2026-11-26 19:33-19:40, 2 cores: plain 0.15-0.24 ms; txn+offsets 2.4-3.3 ms once the broker's JIT had settled
 * (5.2-7.3 ms in the first rounds), and 9.5-12 ms of wall time each.
 *
 * <p>PRODUCER_OVERRIDES="key=value,..." sets producer properties, e.g. "retry.backoff.ms=10". 2026-11-27 17:20-17:30,
 * Kafka 4.4 with transactions v2, 500 back-to-back transactions per round: txn+offsets took 16-48 ms of wall time each
 * with the client's default back-off (100 ms; the broker answers the offset commit with CONCURRENT_TRANSACTIONS while
 * the previous transaction's markers are being written) and 3.9-5.8 ms with 1, 5, 10 or 20 ms, at 2.0-3.5 ms of broker
 * CPU each either way; txn without offsets took 1.6-3.4 ms whatever the back-off. The services' transactional
 * producers now retry after 10 ms (KafkaSettings.TRANSACTION_RETRY_BACKOFF_MS).
 */
public class TransactionCost {
    public static void main(String[] args) throws Exception {
        long pid = Long.parseLong(args[0]);
        int n = Integer.parseInt(args[1]);
        String[] modes = (args.length > 2 ? args[2] : "plain,txn,txn+offsets").split(",");
        // Work between two operations (a stage's processing of its next batch), as a sleep.
        long pauseMs = args.length > 3 ? Long.parseLong(args[3]) : 0;
        String bootstrap = System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            if (!admin.listTopics().names().get().contains("txn-cost")) {
                admin.createTopics(List.of(new NewTopic("txn-cost", 1, (short) 1))).all().get();
            }
        }
        byte[] payload = new byte[1000];
        for (String mode : modes) {
            Map<String, Object> config = new HashMap<>(Map.of("bootstrap.servers", bootstrap, "acks", "all",
                    "enable.idempotence", "true", "linger.ms", "0"));
            for (String setting : System.getenv().getOrDefault("PRODUCER_OVERRIDES", "").split(",")) {
                if (setting.contains("=")) {
                    config.put(setting.substring(0, setting.indexOf('=')), setting.substring(setting.indexOf('=') + 1));
                }
            }
            if (mode.startsWith("txn")) {
                config.put("transactional.id", "txn-cost-" + mode);
            }
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                if (mode.startsWith("txn")) {
                    producer.initTransactions();
                }
                for (int i = 0; i < 50; i++) { // connections, coordinator lookups
                    once(producer, mode, payload, i);
                }
                long cpuBefore = cpuTicks(pid);
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    once(producer, mode, payload, i);
                    if (pauseMs > 0) {
                        Thread.sleep(pauseMs);
                    }
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf("%-12s %d in %.1f s (%.1f ms each, of which %d ms pause): broker CPU %.2f ms each%n",
                        mode, n, seconds, 1000 * seconds / n, pauseMs, (cpuTicks(pid) - cpuBefore) * 10.0 / n);
            }
        }
    }

    private static void once(KafkaProducer<byte[], byte[]> producer, String mode, byte[] payload, int i)
            throws Exception {
        if (mode.equals("plain")) {
            producer.send(new ProducerRecord<>("txn-cost", payload)).get();
            return;
        }
        producer.beginTransaction();
        producer.send(new ProducerRecord<>("txn-cost", payload));
        if (mode.equals("txn+offsets")) {
            producer.sendOffsetsToTransaction(Map.of(new TopicPartition("txn-cost", 0), new OffsetAndMetadata(i)),
                    new ConsumerGroupMetadata("txn-cost-group"));
        }
        producer.commitTransaction();
    }

    /** utime + stime of a process, in ticks of 1/100 s. */
    private static long cpuTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
