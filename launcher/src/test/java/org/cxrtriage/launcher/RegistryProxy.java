package org.cxrtriage.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** TCP proxy to the registry that can go silent: new connections are then accepted and never answered. */
final class RegistryProxy implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0);
    private final InetSocketAddress upstream;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean silent;

    /** @param registryUrl the real registry's URL (its host and port are used) */
    RegistryProxy(URI registryUrl) throws IOException {
        this.upstream = new InetSocketAddress(registryUrl.getHost(), registryUrl.getPort());
        daemon(this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    /** The registry URL with this proxy's port in place of the real one. */
    String url(URI registryUrl) {
        return "http://127.0.0.1:" + port() + registryUrl.getPath();
    }

    void silent(boolean on) {
        silent = on;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                if (silent) {
                    continue; // held open, never answered
                }
                Socket up = new Socket(upstream.getHostString(), upstream.getPort());
                sockets.add(up);
                daemon(() -> pump(client, up));
                daemon(() -> pump(up, client));
            } catch (IOException e) {
                return;
            }
        }
    }

    /** Copies bytes one way; while silent, what arrives is dropped (a registry that hangs mid-connection). */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[8192];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (!silent) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // either side closed
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void daemon(Runnable r) {
        Thread t = new Thread(r, "registry-proxy");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }
}
