package io.hacluster.db;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Runs a read on a first server; if it fails because the server failed (connection lost,
 * shutdown, a recovery conflict, no connection in time), once more on a second server, and if
 * that fails too, on the master. Errors in the statement itself are thrown at once. The work may
 * run more than once, so it must not write.
 */
final class RetryingRead {

    /** The second server to try after {@code failed} failed; null if there is none. */
    interface NextServer {
        RoundRobin.Borrowed after(Server failed) throws SQLException;
    }

    private RetryingRead() {
    }

    /**
     * @param first the first connection and its server (null server: the master or a token read,
     *     which go straight to the master on failure)
     * @param next where the second attempt borrows, after a replica failed
     * @param master the last resort
     */
    static <T> T run(RoundRobin.Borrowed first, NextServer next, SqlSupplier<Connection> master,
                     SqlFunction<T> work, RouterCounters counters) throws SQLException {
        SQLException failure;
        try (Connection conn = first.connection()) {
            return work.apply(conn);
        } catch (SQLException e) {
            if (!SqlStates.isRetryableRead(e)) {
                throw e;
            }
            failure = e;
        }
        counters.readRetries.increment();
        if (first.server() != null) {
            RoundRobin.Borrowed second = next.after(first.server());
            if (second != null) {
                try (Connection conn = second.connection()) {
                    return work.apply(conn);
                } catch (SQLException e) {
                    if (!SqlStates.isRetryableRead(e)) {
                        throw e;
                    }
                    e.addSuppressed(failure);
                    failure = e;
                }
            }
        }
        try (Connection conn = master.get()) {
            return work.apply(conn);
        } catch (SQLException e) {
            e.addSuppressed(failure);
            throw e;
        }
    }
}
