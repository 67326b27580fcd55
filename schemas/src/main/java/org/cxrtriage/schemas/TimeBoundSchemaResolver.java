package org.cxrtriage.schemas;

import io.apicurio.registry.client.RegistryClientFactory;
import io.apicurio.registry.client.common.DefaultVertxInstance;
import io.apicurio.registry.client.common.HttpAdapterType;
import io.apicurio.registry.client.common.RegistryClientOptions;
import io.apicurio.registry.client.common.auth.VertXAuthFactory;
import io.apicurio.registry.resolver.DefaultSchemaResolver;
import io.apicurio.registry.resolver.SchemaParser;
import io.apicurio.registry.resolver.client.RegistryClientFacade;
import io.apicurio.registry.resolver.client.RegistryClientFacadeFactory;
import io.apicurio.registry.resolver.client.RegistryClientFacadeImpl;
import io.apicurio.registry.resolver.config.SchemaResolverConfig;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.client.impl.ClientPhase;
import io.vertx.ext.web.client.impl.WebClientInternal;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Apicurio's schema resolver with a time limit on every registry request.
 *
 * <p>The stock client (Vert.x web client under Kiota) sets no connect, pool or response timeout and waits on the
 * response with {@code CompletableFuture.get()}: a registry connection that stops answering held a consumer thread
 * forever (seen once in the fault suite, 2026-11-27, after the broker and Redis had been killed). Here every request
 * fails with a timeout after {@value #REQUEST_TIMEOUT_MS} (connection from the pool or new, then silence on the wire);
 * the caller sees an exception, and {@link RegistryErrors#unavailable} tells it apart from a bad payload.
 *
 * <p>Beyond that, every client call has a deadline kept by the caller ({@link RegistryCallDeadline}), whatever holds it
 * up. TLS, proxy and OAuth2 settings keep the stock client (they need the client's own option handling), with only
 * that deadline; a warning says so.
 */
public class TimeBoundSchemaResolver<S, T> extends DefaultSchemaResolver<S, T> {

    /** Serde property: milliseconds a registry request may take to get a connection, and to hear back. */
    public static final String REQUEST_TIMEOUT_MS = "cxr.registry.request-timeout-ms";
    public static final long DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

    /** {@code RegistryClientOptions.retry()}: 3 attempts, back-off 250 ms doubling, so at most 750 ms between them. */
    private static final int CLIENT_ATTEMPTS = 3;
    private static final long CLIENT_BACKOFF_MS = 750;

    private static final Logger LOG = LoggerFactory.getLogger(TimeBoundSchemaResolver.class);
    /** Settings only the stock client understands. */
    private static final List<String> STOCK_CLIENT_SETTINGS = List.of(SchemaResolverConfig.AUTH_TOKEN_ENDPOINT,
            SchemaResolverConfig.TLS_TRUSTSTORE_LOCATION, SchemaResolverConfig.TLS_CERTIFICATES,
            SchemaResolverConfig.TLS_TRUST_ALL, SchemaResolverConfig.PROXY_HOST);

    private WebClient webClient;

    @Override
    public void configure(Map<String, ?> configs, SchemaParser<S, T> schemaParser) {
        if (clientFacade == null) {
            long timeoutMs = requestTimeoutMs(configs);
            SchemaResolverConfig config = new SchemaResolverConfig(configs);
            List<String> stockOnly = STOCK_CLIENT_SETTINGS.stream().filter(k -> configs.get(k) != null).toList();
            RegistryClientFacade facade;
            if (stockOnly.isEmpty()) {
                webClient = webClient(config, timeoutMs);
                RegistryClientOptions options = RegistryClientOptions.create(config.getRegistryUrl(), vertx(config))
                        .httpAdapter(HttpAdapterType.VERTX).customWebClient(webClient).retry();
                facade = new RegistryClientFacadeImpl(RegistryClientFactory.create(options));
            } else {
                LOG.warn("schema registry requests have only the caller's deadline with {} set (the stock client "
                        + "handles them, without timeouts of its own)", stockOnly);
                facade = RegistryClientFacadeFactory.create(config);
            }
            setClientFacade(RegistryCallDeadline.wrap(facade, callDeadline(timeoutMs)));
        }
        super.configure(configs, schemaParser);
    }

    /**
     * The caller's own limit on one client call: the client may try a request {@value #CLIENT_ATTEMPTS} times (its
     * retry on a dropped connection), each with the request timeout, plus its back-off between them.
     */
    public static Duration callDeadline(long requestTimeoutMs) {
        return Duration.ofMillis(CLIENT_ATTEMPTS * requestTimeoutMs + CLIENT_BACKOFF_MS + 1_000);
    }

    public static long requestTimeoutMs(Map<String, ?> configs) {
        Object v = configs.get(REQUEST_TIMEOUT_MS);
        long ms = v == null ? DEFAULT_REQUEST_TIMEOUT_MS : Long.parseLong(v.toString().trim());
        if (ms <= 0) {
            throw new IllegalArgumentException(REQUEST_TIMEOUT_MS + " must be positive, was " + v);
        }
        return ms;
    }

    private static Vertx vertx(SchemaResolverConfig config) {
        Vertx given = config.getVertx();
        return given != null ? given : DefaultVertxInstance.get();
    }

    private static WebClient webClient(SchemaResolverConfig config, long timeoutMs) {
        Vertx vertx = vertx(config);
        WebClientOptions options = new WebClientOptions().setConnectTimeout((int) Math.min(timeoutMs, Integer.MAX_VALUE));
        WebClient client = config.getAuthUsername() == null
                ? WebClient.create(vertx, options)
                : VertXAuthFactory.buildSimpleAuthWebClient(vertx, options, config.getAuthUsername(),
                        config.getAuthPassword());
        // Kiota builds each request itself, so the limits go on every request as it is created: waiting for a pooled
        // connection, and waiting for the response's first and next bytes.
        ((WebClientInternal) client).addInterceptor(ctx -> {
            if (ctx.phase() == ClientPhase.CREATE_REQUEST) {
                ctx.requestOptions().setConnectTimeout(timeoutMs).setIdleTimeout(timeoutMs);
            }
            ctx.next();
        });
        return client;
    }

    @Override
    public void close() throws IOException {
        if (webClient != null) {
            webClient.close();
        }
        super.close();
    }
}
