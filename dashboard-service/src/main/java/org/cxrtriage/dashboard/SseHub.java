package org.cxrtriage.dashboard;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.sse.SseClient;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The browsers watching the board. Everything sent to them goes through one thread, in order: a new browser gets its
 * snapshot, then every change after it; so no change can fall between the snapshot and the live events (a change may
 * come twice, which the page ignores by the entry's version). Each browser sees only the sites its token may.
 */
final class SseHub implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SseHub.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Subscriber(SseClient client, Predicate<String> visible) {
    }

    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "dashboard-sse");
        t.setDaemon(true);
        return t;
    });

    SseHub(long heartbeatSeconds) {
        // A comment line now and then keeps proxies from closing idle streams and finds browsers that left.
        sender.scheduleAtFixedRate(() -> subscribers.forEach(s -> send(s, null, "keep-alive", null)),
                heartbeatSeconds, heartbeatSeconds, TimeUnit.SECONDS);
    }

    /** Sends the snapshot, then adds the browser to those that get every change. */
    void subscribe(SseClient client, Predicate<String> visible, Supplier<Object> snapshot) {
        client.keepAlive();
        Subscriber s = new Subscriber(client, visible);
        client.onClose(() -> subscribers.remove(s));
        sender.execute(() -> {
            if (send(s, "snapshot", snapshot.get(), null)) {
                subscribers.add(s);
            }
        });
    }

    /** Sends {@code event} with the entry to every browser that may see one of its sites. */
    void publish(String event, AlertBoard.Entry entry) {
        DashboardAlert alert = entry.alert();
        String id = Long.toString(entry.version());
        // Each browser its own body: what it may see of the neighbours depends on its token's sites.
        sender.execute(() -> subscribers.stream().filter(s -> alert.visibleTo(s.visible()))
                .forEach(s -> send(s, event, AlertMapping.json(entry, s.visible()), id)));
    }

    int size() {
        return subscribers.size();
    }

    /** False when the browser has gone (it is then dropped). */
    private boolean send(Subscriber s, String event, Object body, String id) {
        try {
            if (s.client().terminated()) {
                subscribers.remove(s);
                return false;
            }
            if (event == null) {
                s.client().sendComment(String.valueOf(body));
            } else if (id == null) {
                s.client().sendEvent(event, JSON.writeValueAsString(body));
            } else {
                s.client().sendEvent(event, JSON.writeValueAsString(body), id);
            }
            return !s.client().terminated();
        } catch (JsonProcessingException | RuntimeException e) {
            LOG.debug("dropping a browser stream: {}", e.toString());
            subscribers.remove(s);
            return false;
        }
    }

    /** Ends every stream; call it while the HTTP server still runs, so the responses finish cleanly. */
    @Override
    public void close() {
        sender.shutdownNow();
        for (Subscriber s : subscribers) {
            try {
                if (!s.client().terminated()) {
                    s.client().close();
                }
            } catch (RuntimeException e) {
                LOG.debug("closing a browser stream: {}", e.toString());
            }
        }
        subscribers.clear();
    }
}
