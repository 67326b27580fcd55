package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuAccountingTest {

    @Test
    void processesAreGroupedByWhatTheyRun() {
        assertThat(CpuAccounting.label("java -Xmx1g -cp x org.cxrtriage.inference.InferenceMain"))
                .isEqualTo("inference service(s)");
        assertThat(CpuAccounting.label("java -Dcxr.stack=kafka -cp libs/* kafka.Kafka server.properties"))
                .isEqualTo("Kafka broker");
        assertThat(CpuAccounting.label("java -Dcxr.stack=apicurio -jar quarkus-run.jar")).isEqualTo("schema registry");
        assertThat(CpuAccounting.label("redis-server 127.0.0.1:6379")).isEqualTo("Redis");
        assertThat(CpuAccounting.label("bash")).isEqualTo("everything else");
    }

    @Test
    void onlyHotSpotCompilerThreadsCountAsJitCompilation() {
        // /proc/PID/task/TID/stat: utime and stime are the 14th and 15th fields, in ticks of 1/100 s
        String c2 = "4242 (C2 CompilerThre) S 1 1 1 0 -1 4194368 1 0 0 0 250 50 0 0 20 0 30 0 1 1 1";
        String worker = "4243 (inference-worke) R 1 1 1 0 -1 4194368 1 0 0 0 900 10 0 0 20 0 30 0 1 1 1";
        assertThat(CpuAccounting.compilerSeconds(c2)).isEqualTo(3.0);
        assertThat(CpuAccounting.compilerSeconds(worker)).isZero();
        assertThat(CpuAccounting.compilerSeconds()).isPositive(); // this JVM's compilers have worked by now
    }

    @Test
    void theUseBetweenTwoSnapshotsLeavesOutIdleGroupsAndPutsTheLargestFirst() {
        Map<String, Double> used = CpuAccounting.between(Map.of("a", 1.0, "b", 2.0, "c", 5.0),
                Map.of("a", 4.0, "b", 2.0, "c", 6.0, "d", 0.5));
        assertThat(used).containsExactly(Map.entry("a", 3.0), Map.entry("c", 1.0), Map.entry("d", 0.5));
    }

    @Test
    void aSnapshotCountsThisProcessAsTheBenchmarkClient() {
        long busyUntil = System.nanoTime() + 50_000_000L;
        double x = 0;
        while (System.nanoTime() < busyUntil) {
            x += Math.sqrt(x + 1);
        }
        assertThat(x).isPositive();
        assertThat(CpuAccounting.snapshot()).containsKey("benchmark client (uploads, result consumer)");
    }
}
