package org.cxrtriage.schemas;

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
 * the call runs on a helper thread and the caller stops waiting at the deadline with a {@link TimeoutException} cause,
 * which {@link RegistryErrors#unavailable} recognises. A call that never returns keeps its helper thread (a daemon).
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
                throw e.getCause();
            } catch (TimeoutException e) {
                call.cancel(true);
                throw new IllegalStateException("schema registry call " + method.getName() + " gave no answer in "
                        + deadline.toMillis() + " ms", e);
            } catch (InterruptedException e) {
                call.cancel(true);
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for the schema registry", e);
            }
        };
        return (RegistryClientFacade) Proxy.newProxyInstance(RegistryClientFacade.class.getClassLoader(),
                new Class<?>[] {RegistryClientFacade.class}, handler);
    }
}
