package org.cxrtriage.schemas;

import com.microsoft.kiota.ApiException;
import io.apicurio.registry.resolver.client.RegistryClientFacade;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A last-resort deadline on every registry client call, measured by the caller. The HTTP client's own timeouts end a
 * request on a silent connection, but they run on its event loop; whatever holds a call beyond them (a blocked event
 * loop, a lost callback, a client configured without timeouts) would hold the calling consumer thread for ever. Here
 * the call runs on a helper thread and the caller stops waiting at the deadline. A call that never returns keeps its
 * helper thread (a daemon).
 *
 * <p>This is also where registry failures are named: a call that times out, fails to connect or gets a 5xx/429 ends in
 * a {@link RegistryUnavailableException}; a 4xx answer (the registry does not know the id: 404) passes unchanged.
 * Classifying here, and not by the exception types in a deserializer's error, keeps decoding failures (Avro reports a
 * truncated body as an {@code EOFException}) from passing for an outage.
 */
final class RegistryCallDeadline {

    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final ExecutorService CALLS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "registry-call-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    private RegistryCallDeadline() {
    }

    static RegistryClientFacade wrap(RegistryClientFacade facade, Duration deadline) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return method.invoke(facade, args);
            }
            Future<Object> call = CALLS.submit(() -> {
                try {
                    return method.invoke(facade, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause() instanceof Exception ex ? ex : new IllegalStateException(e.getCause());
                }
            });
            try {
                return call.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw named(method.getName(), e.getCause());
            } catch (TimeoutException e) {
                call.cancel(true);
                throw new RegistryUnavailableException("schema registry call " + method.getName()
                        + " gave no answer in " + deadline.toMillis() + " ms", e);
            } catch (InterruptedException e) {
                call.cancel(true);
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for the schema registry", e);
            }
        };
        return (RegistryClientFacade) Proxy.newProxyInstance(RegistryClientFacade.class.getClassLoader(),
                new Class<?>[] {RegistryClientFacade.class}, handler);
    }

    /** A failed call's error as callers should see it: the registry's own 4xx answer as is, anything else unavailable. */
    static Throwable named(String call, Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RegistryUnavailableException) {
                return error;
            }
            if (t instanceof ApiException api) {
                int status = api.getResponseStatusCode();
                if (status >= 400 && status < 500 && status != 429) {
                    return error;
                }
                break;
            }
        }
        return new RegistryUnavailableException("schema registry call " + call + " failed: " + error, error);
    }
}
