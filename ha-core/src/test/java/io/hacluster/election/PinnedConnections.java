package io.hacluster.election;

import io.hacluster.discovery.ConnectionSource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link ConnectionSource} over a fixed set of physical connections, handed out in turn, whose
 * {@code close()} leaves the physical connection open: what a transaction-mode pooler or a
 * recycling pool does to the lease, where consecutive operations of one node land on different
 * backends and one backend serves several nodes. Test code closes the physical connections.
 */
final class PinnedConnections implements ConnectionSource, AutoCloseable {

    private final List<Connection> physical;
    private final AtomicInteger next = new AtomicInteger();

    PinnedConnections(List<Connection> physical) {
        this.physical = new ArrayList<>(physical);
    }

    @Override
    public Connection open() {
        Connection target = physical.get(Math.floorMod(next.getAndIncrement(), physical.size()));
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        return null;
                    }
                    try {
                        return method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** The backend process id of physical connection {@code index}. */
    int backendPid(int index) throws SQLException {
        try (Statement s = physical.get(index).createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Override
    public void close() throws SQLException {
        for (Connection c : physical) {
            c.close();
        }
    }
}
