package org.cxrtriage.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.cxrtriage.common.HttpEndpoints;
import org.junit.jupiter.api.Test;

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
                .contains("-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch").doesNotContain("-Xmx768m");
        assertThat(ServiceProcess.jvmOptions("preprocess", "  ", " ")).contains("-Xmx768m")
                .noneMatch(o -> o.startsWith("-XX:StartFlightRecording") || o.isBlank());
        java.util.List<String> options = ServiceProcess.jvmOptions("ingest", "/tmp/jfr",
                "  -XX:NativeMemoryTracking=summary   -Dx=1 ");
        assertThat(options).endsWith("-XX:NativeMemoryTracking=summary", "-Dx=1");
        assertThat(options).contains("-XX:StartFlightRecording=settings=profile,filename=/tmp/jfr/ingest.jfr");
    }
}
