package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.cxrtriage.common.HttpEndpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceProcessTest {

    @Test
    void committedHeapIsTheSumOfTheHeapPoolsOnly() {
        String text = """
                # HELP jvm_memory_committed_bytes The amount of memory in bytes that is committed for the JVM to use
                # TYPE jvm_memory_committed_bytes gauge
                jvm_memory_committed_bytes{area="heap",id="G1 Eden Space",service="inference"} 1.048576E8
                jvm_memory_committed_bytes{area="heap",id="G1 Old Gen",service="inference"} 2.097152E8
                jvm_memory_committed_bytes{area="nonheap",id="Metaspace",service="inference"} 5.24288E7
                jvm_memory_used_bytes{area="heap",id="G1 Old Gen",service="inference"} 1.0E8
                """;
        assertThat(ServiceProcess.heapCommittedMb(text)).isEqualTo(300);
        assertThat(ServiceProcess.heapCommittedMb("cxr_inference_scored_total 3.0\n")).isEqualTo(-1);
    }

    @Test
    void everyServiceRegistryExposesTheJvmHeap() {
        PrometheusMeterRegistry registry = HttpEndpoints.newMeterRegistry("test");
        long heap = ServiceProcess.heapCommittedMb(registry.scrape());
        assertThat(heap).isPositive().isLessThanOrEqualTo(Runtime.getRuntime().maxMemory() / (1024 * 1024) + 1);
        registry.close();
    }

    @Test
    void extraJvmOptionsFollowTheServiceSettingsAndProfilingNamesTheService() {
        assertThat(ServiceProcess.jvmOptions("inference-2", null, null))
                .contains("-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-XX:-UseCodeCacheFlushing")
                .doesNotContain("-Xmx768m");
        assertThat(ServiceProcess.jvmOptions("preprocess", "  ", " ")).contains("-Xmx768m")
                .noneMatch(o -> o.startsWith("-XX:StartFlightRecording") || o.isBlank());
        java.util.List<String> options = ServiceProcess.jvmOptions("ingest", "/tmp/jfr",
                "  -XX:NativeMemoryTracking=summary   -Dx=1 ");
        assertThat(options).endsWith("-XX:NativeMemoryTracking=summary", "-Dx=1");
        assertThat(options).contains("-XX:StartFlightRecording=settings=profile,filename=/tmp/jfr/ingest.jfr");
    }

    @Test
    void pauseStopsTheJvmAndResumeLetsItRunAgain(@TempDir Path tmp) throws Exception {
        ServiceProcess sleeper = new ServiceProcess("sleeper", SleepingMain.class.getName(), 0, Map.of(),
                tmp.resolve("sleeper.log"));
        sleeper.start();
        try {
            sleeper.pause();
            assertThat(awaitState(sleeper, true)).as("stopped (T) after pause").isEqualTo('T');
            sleeper.resume();
            assertThat(awaitState(sleeper, false)).as("running or sleeping after resume").isIn('R', 'S');
            assertThat(sleeper.alive()).isTrue();
        } finally {
            sleeper.stop();
        }
        assertThat(sleeper.alive()).isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(sleeper::pause).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aNiceServiceRunsAtItsNicenessUnderTheSamePid(@TempDir Path tmp) throws Exception {
        assertThat(ServiceProcess.launchPrefix(0)).isEmpty();
        assertThat(ServiceProcess.launchPrefix(3)).containsExactly("nice", "-n", "3");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ServiceProcess("x", "Main", 0, Map.of(),
                tmp.resolve("x.log")).niceness(20)).isInstanceOf(IllegalArgumentException.class);
        ServiceProcess sleeper = new ServiceProcess("sleeper", SleepingMain.class.getName(), 0, Map.of(),
                tmp.resolve("sleeper.log")).niceness(3);
        sleeper.start();
        try {
            String stat = "";
            for (int i = 0; i < 100 && !stat.contains("java"); i++) { // nice execs java: same PID, new name
                Thread.sleep(50);
                stat = Files.readString(Path.of("/proc", Long.toString(sleeper.pid()), "stat"));
            }
            assertThat(stat).contains("(java)");
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            int ownNice = Integer.parseInt(Files.readString(Path.of("/proc/self/stat"))
                    .replaceFirst("^.*\\) ", "").split(" ")[16]);
            assertThat(Integer.parseInt(fields[16])).as("nice of the service JVM").isEqualTo(ownNice + 3);
        } finally {
            sleeper.stop();
        }
    }

    /** The process state letter from /proc/PID/stat, polled until it is (or is no longer) 'T', for up to 5 s. */
    private static char awaitState(ServiceProcess p, boolean stopped) throws Exception {
        char state = '?';
        for (int i = 0; i < 100; i++) {
            String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
            state = stat.charAt(stat.lastIndexOf(')') + 2);
            if ((state == 'T') == stopped) {
                break;
            }
            Thread.sleep(50);
        }
        return state;
    }
}
