package io.hacluster.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The physical connections one server's pool has opened and not yet closed, each with the
 * {@link ServerIncarnation} it reached. Two uses: a token read checks that a borrowed connection
 * reached the incarnation a replay position was measured on, and a server found down has every
 * connection aborted, so threads blocked reading from a stalled server fail at once (and
 * {@link DatabaseRouter#read} retries elsewhere) instead of waiting for the socket timeout.
 *
 * <p>Registration happens when the pool opens a connection; closed connections are dropped by
 * {@link #prune()} on each monitor check. Lookups are lock-free.
 */
final class OpenedConnections {

    private static final Logger log = LoggerFactory.getLogger(OpenedConnections.class);
    /** {@link Connection#abort} only closes the socket: quick enough to run on the caller's thread. */
    private static final Executor ON_CALLER = Runnable::run;

    /** Keyed by the driver's connection object, which has identity equality. */
    private final Map<Connection, ServerIncarnation> open = new ConcurrentHashMap<>();

    void register(Connection physical, ServerIncarnation incarnation) {
        open.put(physical, incarnation);
    }

    /** The incarnation a connection from the pool (a HikariCP proxy) reached, or null if unknown. */
    ServerIncarnation incarnationOf(Connection borrowed) {
        try {
            Connection physical = (Connection) borrowed.unwrap(PGConnection.class);
            return open.get(physical);
        } catch (SQLException | ClassCastException e) {
            return null;
        }
    }

    /** Aborts every open connection; returns how many. */
    int abortAll(String serverLabel) {
        int aborted = 0;
        for (Connection c : open.keySet()) {
            open.remove(c);
            try {
                if (!c.isClosed()) {
                    c.abort(ON_CALLER);
                    aborted++;
                }
            } catch (SQLException | RuntimeException e) {
                log.debug("aborting a connection to {} failed: {}", serverLabel, SqlStates.describe(e));
            }
        }
        return aborted;
    }

    /** Forgets connections the pool has closed. */
    void prune() {
        open.keySet().removeIf(OpenedConnections::closedQuietly);
    }

    int size() {
        return open.size();
    }

    private static boolean closedQuietly(Connection c) {
        try {
            return c.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }
}
