package io.hacluster.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-your-writes: a replica connection that sees everything a {@link ConsistencyToken} covers.
 *
 * <p>A position the monitor (or an earlier probe) measured is trusted only for a connection to
 * the same {@link ServerIncarnation}: the server behind a DSN can change at any time (a moved
 * virtual IP or DNS name, a re-cloned replica, a load-balanced reader endpoint), and a position
 * measured on one server says nothing about another. Any other connection is checked live with
 * one {@code pg_last_wal_replay_lsn()} before it is handed out.
 */
final class TokenReads {

    private static final Logger log = LoggerFactory.getLogger(TokenReads.class);

    private TokenReads() {
    }

    /**
     * A connection from {@code rotation}, going round from {@code start}, that covers
     * {@code token}: first from servers known to cover it, else from one live probe of the
     * server at {@code start}. Null if none does.
     */
    static Connection covering(Server[] rotation, int start, ConsistencyToken token) {
        int n = rotation.length;
        boolean startProbed = false;
        for (int i = 0; i < n; i++) {
            Server s = rotation[RoundRobin.wrap(start, i, n)];
            KnownReplay known = s.knownReplay();
            if (known == null || !token.coveredBy(known.lsn()) || !s.inRotation()) {
                continue;
            }
            Connection c = RoundRobin.tryBorrow(s);
            if (c == null) {
                continue;
            }
            if (known.covers(token, s.incarnationOf(c))) {
                return c;
            }
            // This connection reached another server than the one the position was measured on.
            startProbed |= i == 0;
            if (coveredLive(s, c, token)) {
                return c;
            }
        }
        Server probe = rotation[start];
        if (!startProbed && probe.inRotation()) {
            Connection c = RoundRobin.tryBorrow(probe);
            if (c != null && coveredLive(probe, c, token)) {
                return c;
            }
        }
        return null;
    }

    /** Whether {@code c} has replayed {@code token}; closes {@code c} if not. */
    private static boolean coveredLive(Server s, Connection c, ConsistencyToken token) {
        boolean covered = false;
        try {
            long replay = replayPosition(c);
            s.probedReplay(s.incarnationOf(c), replay);
            covered = token.coveredBy(replay);
        } catch (SQLException e) {
            log.debug("replay position probe on {} failed: {}", s, SqlStates.describe(e));
        } finally {
            if (!covered) {
                closeQuietly(c);
            }
        }
        return covered;
    }

    private static long replayPosition(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_last_wal_replay_lsn()::text")) {
            rs.next();
            String text = rs.getString(1);
            if (text == null) {
                throw new SQLException("server is not replaying WAL");
            }
            return Lsn.parse(text);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            log.debug("closing a probed connection failed: {}", SqlStates.describe(e));
        }
    }
}
