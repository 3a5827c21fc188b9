package io.hacluster.db;

import com.zaxxer.hikari.SQLExceptionOverride;
import java.sql.SQLException;

/**
 * HikariCP calls this for every SQLException thrown by a pooled connection (and its causes), on
 * the application's thread, so it only flips flags and hands work to the router's scheduler.
 *
 * <ul>
 *   <li>Master pool, SQLState 25006 (read-only transaction): the connection reached a standby,
 *       e.g. an old primary after a failover. HikariCP keeps such connections by default; we
 *       evict it and ask for a role re-check of the master.</li>
 *   <li>Replica pools, a server failure (SQLState 08xxx, 57P01-57P03, ...): the replica leaves
 *       rotation at once instead of at the next monitor tick. HikariCP's own eviction rules still
 *       apply to the connection.</li>
 * </ul>
 */
final class ServerExceptionOverride implements SQLExceptionOverride {

    private final Server server;
    private final Runnable masterReadOnlyHook;
    private final RouterCounters counters;

    ServerExceptionOverride(Server server, Runnable masterReadOnlyHook, RouterCounters counters) {
        this.server = server;
        this.masterReadOnlyHook = masterReadOnlyHook;
        this.counters = counters;
    }

    @java.lang.Override
    public Override adjudicate(SQLException e) {
        String state = e.getSQLState();
        if (server.tier() == ServerTier.MASTER) {
            if (SqlStates.READ_ONLY_TRANSACTION.equals(state)) {
                counters.evictions.increment();
                masterReadOnlyHook.run();
                return Override.MUST_EVICT;
            }
        } else if (SqlStates.isServerFailureState(state)) {
            server.connectionFailedInUse(SqlStates.describe(e));
        }
        return Override.CONTINUE_EVICT;
    }
}
