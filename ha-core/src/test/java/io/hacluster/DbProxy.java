package io.hacluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on 127.0.0.1 in front of the database, one per node, so a test can stall one
 * node's database while the others reach it: while {@link #stall stalled}, bytes in either
 * direction are held (new connections are accepted and held too), as a network that stops
 * delivering without resetting anything; after {@link #resume} everything held is delivered, so
 * statements sent during the stall reach the database late. Daemon threads, two per connection.
 */
final class DbProxy implements AutoCloseable {

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile boolean stalled;
    private volatile boolean closed;

    DbProxy(String host, int port) throws IOException {
        this.target = new InetSocketAddress(host, port);
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread accept = new Thread(this::acceptLoop, "db-proxy-" + server.getLocalPort());
        accept.setDaemon(true);
        accept.start();
    }

    /** The relay's port on 127.0.0.1. */
    int port() {
        return server.getLocalPort();
    }

    /** Holds every byte from now on until {@link #resume}. */
    void stall() {
        stalled = true;
    }

    /** Delivers what was held and relays again. */
    void resume() {
        synchronized (gate) {
            stalled = false;
            gate.notifyAll();
        }
    }

    boolean isStalled() {
        return stalled;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;  // closed
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(target, 10_000);
            } catch (IOException e) {
                closeQuietly(client);
                closeQuietly(upstream);
                continue;
            }
            sockets.add(client);
            sockets.add(upstream);
            int id = connections.incrementAndGet();
            start("db-proxy-" + port() + "-" + id + "-up", () -> pump(client, upstream));
            start("db-proxy-" + port() + "-" + id + "-down", () -> pump(upstream, client));
        }
    }

    private static void start(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            while (!closed) {
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                awaitOpen();
                if (closed) {
                    break;
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed or reset: close both
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            sockets.remove(from);
            sockets.remove(to);
        }
    }

    /** Waits while stalled; every wait is short, and close() ends it. */
    private void awaitOpen() {
        synchronized (gate) {
            while (stalled && !closed) {
                try {
                    gate.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        resume();
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        sockets.forEach(DbProxy::closeQuietly);
    }
}
