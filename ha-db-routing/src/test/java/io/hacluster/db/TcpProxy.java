package io.hacluster.db;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP forwarder for fault injection. Everything it opens is closed by {@link #close()}.
 *
 * <ul>
 *   <li>{@link #silent(boolean) silent}: new connections are accepted but never answered, as with a
 *       stalled host (established ones keep working); {@link #silentFor(int)} does so for the next
 *       few connections only, as with one slow answer.</li>
 *   <li>{@link #stall(boolean) stall}: nothing is forwarded on any connection, new or established,
 *       and every socket stays open: what a client sees of a SIGSTOPped server.</li>
 *   <li>{@link #retarget(int)}: new connections go to another port and established ones are cut,
 *       as when the server behind a name or address is replaced.</li>
 * </ul>
 */
final class TcpProxy implements AutoCloseable {

    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object stallLock = new Object();
    private final AtomicInteger silentConnections = new AtomicInteger();
    private volatile int targetPort;
    private volatile boolean silent;
    private volatile boolean stalled;

    TcpProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "ha-test-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** The DSN of {@code dsn}'s server, reached through this proxy instead. */
    Dsn dsnFor(String dsn, int serverPort) {
        return Dsn.parse(dsn.replace(":" + serverPort + "/", ":" + port() + "/"));
    }

    void silent(boolean value) {
        silent = value;
    }

    /** The next {@code connections} new connections are held open and never answered. */
    void silentFor(int connections) {
        silentConnections.set(connections);
    }

    void stall(boolean value) {
        synchronized (stallLock) {
            stalled = value;
            stallLock.notifyAll();
        }
    }

    /** New connections go to {@code port}; established ones are closed. */
    void retarget(int port) {
        targetPort = port;
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        sockets.clear();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                if (silent || silentConnections.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    continue; // held open, never read from or answered
                }
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(upstream);
                pump(client, upstream);
                pump(upstream, client);
            } catch (IOException e) {
                // closed, or the target refused: the client sees its connection dropped
            }
        }
    }

    private void awaitNotStalled() throws IOException {
        synchronized (stallLock) {
            while (stalled) {
                try {
                    stallLock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted");
                }
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    awaitNotStalled();
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side went away
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "ha-test-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        stall(false);
        server.close();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }
}
