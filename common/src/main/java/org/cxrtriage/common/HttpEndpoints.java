package org.cxrtriage.common;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The HTTP face every service has: GET /health (200 when healthy, 503 otherwise) and GET /metrics (Prometheus text
 * format), plus whatever routes the service adds.
 */
public final class HttpEndpoints implements AutoCloseable {

    private final Javalin app;

    private HttpEndpoints(Javalin app) {
        this.app = app;
    }

    /**
     * A registry tagged with the service's name, with the JVM's memory (heap and off-heap pools, buffers), threads and
     * CPU: RSS minus committed heap is the native memory a leak check watches.
     */
    public static PrometheusMeterRegistry newMeterRegistry(String service) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("service", service);
        new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(registry);
        return registry;
    }

    public static HttpEndpoints start(Settings settings, int defaultPort, String service, BooleanSupplier healthy,
                                      PrometheusMeterRegistry metrics, Consumer<JavalinConfig> routes) {
        String host = settings.string(CommonKeys.HTTP_HOST, "127.0.0.1");
        int port = settings.integer(CommonKeys.HTTP_PORT, defaultPort);
        Javalin app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.host = host;
            config.jetty.port = port;
            config.routes.get("/health", ctx -> {
                boolean ok = healthy.getAsBoolean();
                ctx.status(ok ? 200 : 503).json(Map.of("service", service, "status", ok ? "UP" : "DOWN"));
            });
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(metrics.scrape()));
            routes.accept(config);
        });
        app.start();
        return new HttpEndpoints(app);
    }

    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }
}
