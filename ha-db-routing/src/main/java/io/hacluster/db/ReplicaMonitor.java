package io.hacluster.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks every server of one {@link Topology} each {@code monitorIntervalSeconds}: health
 * (a fresh connection plus one query under short timeouts), role, and for replicas the replay lag
 * in bytes and time. A fresh connection per check means a DSN that now resolves elsewhere (a moved
 * virtual IP, a DNS failover) is seen at the next tick.
 *
 * <p>Time lag is estimated by {@link MasterPositionHistory}, not from the replay timestamp alone.
 *
 * <p>Not thread-safe by itself: the router runs every check on its single scheduler thread (and
 * the first one on the starting thread, before anything is scheduled).
 */
final class ReplicaMonitor {

    private static final Logger log = LoggerFactory.getLogger(ReplicaMonitor.class);

    private static final String MASTER_QUERY =
            "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END";
    private static final String REPLICA_QUERY =
            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
                    + " (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint";
    /** Enough master samples to cover any sensible lag limit at the shortest interval. */
    private static final int MAX_SAMPLES = 128;

    private final Topology topology;
    private final long maxLagBytes;
    private final long maxLagMillis;
    private final MasterPositionHistory history = new MasterPositionHistory(MAX_SAMPLES);
    /** Servers whose last check timed out while they were in service (monitor thread only). */
    private final Set<Server> timedOutOnce = new HashSet<>();
    /** Position from the latest successful master check in this tick, -1 if the master was not readable. */
    private long masterLsn = -1;

    ReplicaMonitor(Topology topology) {
        this.topology = topology;
        this.maxLagBytes = topology.settings.maxLagBytes();
        this.maxLagMillis = topology.settings.maxLagMillis();
    }

    /** One tick: the master first (it supplies the position replicas are measured against), then replicas. */
    void checkAll() {
        checkMaster();
        for (Server replica : topology.replicas) {
            checkReplica(replica);
        }
        for (Server replica : topology.searchReplicas) {
            checkReplica(replica);
        }
    }

    /** Results that arrive after a reload or close (e.g. a check interrupted by shutdown) are dropped. */
    private boolean stale() {
        return topology.retired;
    }

    /**
     * Checks the master's reachability and role on a fresh connection.
     *
     * @return the failure if the master was unreachable, else null
     */
    SQLException checkMaster() {
        Server master = topology.master;
        long started = System.nanoTime();
        try (Connection c = master.openCheckConnection();
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(MASTER_QUERY)) {
            rs.next();
            timedOutOnce.remove(master);
            if (stale()) {
                return null;
            }
            if (rs.getBoolean(1)) {
                masterLsn = -1;
                master.transition(ServerState.WRONG_ROLE, "the server is in recovery (a standby)", -1, -1);
            } else {
                masterLsn = Lsn.parse(rs.getString(2));
                history.record(started, masterLsn);
                master.transition(ServerState.HEALTHY, "reachable primary", -1, -1);
            }
            return null;
        } catch (SQLException e) {
            masterLsn = -1;
            if (stale() || forgiveFirstTimeout(master, e)) {
                return e;
            }
            master.transition(ServerState.DOWN, SqlStates.describe(e), -1, -1);
            return e;
        }
    }

    void checkReplica(Server replica) {
        long started = System.nanoTime();
        boolean inRecovery;
        String replayText;
        Long replayAgeMillis;
        try (Connection c = replica.openCheckConnection();
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(REPLICA_QUERY)) {
            rs.next();
            inRecovery = rs.getBoolean(1);
            replayText = rs.getString(2);
            long age = rs.getLong(3);
            replayAgeMillis = rs.wasNull() ? null : Math.max(0, age);
        } catch (SQLException e) {
            if (!stale() && !forgiveFirstTimeout(replica, e)) {
                replica.transition(ServerState.DOWN, SqlStates.describe(e), -1, -1);
            }
            return;
        }
        timedOutOnce.remove(replica);
        if (stale() || replica.markedDownAtNanos() - started > 0) {
            // A connection failed in use after this check began; let the next tick decide.
            return;
        }
        if (!inRecovery) {
            replica.transition(ServerState.WRONG_ROLE, "the server is not in recovery (promoted?)", -1, -1);
            return;
        }
        if (replayText == null) {
            replica.transition(ServerState.LAGGING, "no WAL replayed yet", -1, -1);
            return;
        }
        long replay = Lsn.parse(replayText);
        replica.observedReplay(replay);
        long lagBytes = masterLsn == -1 ? -1 : Lsn.distance(masterLsn, replay);
        long lagMillis = masterLsn == -1 ? -1 : history.lagMillis(replay, replayAgeMillis, System.nanoTime());
        if (maxLagBytes > 0 && lagBytes > maxLagBytes) {
            replica.transition(ServerState.LAGGING,
                    "replay " + lagBytes + " bytes behind, limit " + maxLagBytes, lagBytes, lagMillis);
        } else if (maxLagMillis > 0 && lagMillis > maxLagMillis) {
            replica.transition(ServerState.LAGGING,
                    "replay about " + lagMillis + " ms behind, limit " + maxLagMillis, lagBytes, lagMillis);
        } else {
            // With the master unreadable the lag is unknown (-1): keep serving reads rather than
            // send them all to a master that is down.
            replica.transition(ServerState.HEALTHY, "in recovery, within lag limits", lagBytes, lagMillis);
        }
    }

    /**
     * A refused connection is certain; a timeout may be a stalled host or a congested network.
     * A server in service (HEALTHY or LAGGING) is therefore only taken out when two checks in a
     * row time out. Connection errors seen by the application still take it out at once.
     */
    private boolean forgiveFirstTimeout(Server server, SQLException e) {
        ServerState state = server.state();
        boolean inService = state == ServerState.HEALTHY || state == ServerState.LAGGING;
        if (inService && SqlStates.isTimeout(e) && timedOutOnce.add(server)) {
            log.info("{} {}: health check timed out; out of rotation if the next one does too ({})",
                    server.tier().shortName(), server.label(), SqlStates.describe(e));
            return true;
        }
        timedOutOnce.remove(server);
        return false;
    }
}
