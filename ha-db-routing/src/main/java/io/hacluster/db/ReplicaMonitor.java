package io.hacluster.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
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
    private static final String REPLICA_QUERY_BASE =
            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
                    + " (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint, "
                    + ServerIncarnation.QUERY_EXPRESSION;
    /** Also the system identifier and timeline; those functions can be revoked from PUBLIC. */
    private static final String REPLICA_QUERY = REPLICA_QUERY_BASE
            + ", (SELECT system_identifier FROM pg_control_system())::text,"
            + " (SELECT timeline_id FROM pg_control_checkpoint())::text";
    private static final String INSUFFICIENT_PRIVILEGE = "42501";
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
    /** False once pg_control_system() / pg_control_checkpoint() turned out not to be executable. */
    private boolean controlFunctionsReadable = true;
    /** Per replica, the "system identifier/timeline" of its last check (monitor thread only). */
    private final Map<Server, String> lineage = new HashMap<>();

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
            master.checkFailed(e);
            return e;
        }
    }

    void checkReplica(Server replica) {
        replica.pruneConnections();
        long started = System.nanoTime();
        ReplicaReading reading;
        try {
            reading = readReplica(replica);
        } catch (SQLException e) {
            if (!stale() && !forgiveFirstTimeout(replica, e)) {
                replica.checkFailed(e);
            }
            return;
        }
        timedOutOnce.remove(replica);
        if (stale() || replica.markedDownAtNanos() - started > 0) {
            // A connection failed in use after this check began; let the next tick decide.
            return;
        }
        if (reading.lineage() != null) {
            String before = lineage.put(replica, reading.lineage());
            if (before != null && !before.equals(reading.lineage())) {
                log.info("{} {}: system identifier/timeline {} -> {}", replica.tier().shortName(), replica.label(),
                        before, reading.lineage());
                replica.forgetReplay("system identifier or timeline changed");
            }
        }
        if (!reading.inRecovery()) {
            replica.transition(ServerState.WRONG_ROLE, "the server is not in recovery (promoted?)", -1, -1);
            return;
        }
        if (reading.replayText() == null) {
            replica.transition(ServerState.LAGGING, "no WAL replayed yet", -1, -1);
            return;
        }
        long replay = Lsn.parse(reading.replayText());
        long lagBytes = masterLsn == -1 ? -1 : Lsn.distance(masterLsn, replay);
        long lagMillis = masterLsn == -1 ? -1 : history.lagMillis(replay, reading.replayAgeMillis(), System.nanoTime());
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
        // After the transition, which forgets positions on the way back into service.
        replica.measuredReplay(reading.incarnation(), replay);
    }

    /** One replica check's answers. */
    private record ReplicaReading(boolean inRecovery, String replayText, Long replayAgeMillis,
                                  ServerIncarnation incarnation, String lineage) {
    }

    private ReplicaReading readReplica(Server replica) throws SQLException {
        try (Connection c = replica.openCheckConnection()) {
            if (controlFunctionsReadable) {
                try {
                    return query(c, REPLICA_QUERY, true);
                } catch (SQLException e) {
                    if (!INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
                        throw e;
                    }
                    controlFunctionsReadable = false;
                    log.info("pg_control_system() is not executable by this role: replicas are told apart by their"
                            + " start time only ({})", SqlStates.describe(e));
                }
            }
            return query(c, REPLICA_QUERY_BASE, false);
        }
    }

    private static ReplicaReading query(Connection c, String sql, boolean withLineage) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            boolean inRecovery = rs.getBoolean(1);
            String replayText = rs.getString(2);
            long age = rs.getLong(3);
            Long replayAgeMillis = rs.wasNull() ? null : Math.max(0, age);
            ServerIncarnation incarnation = new ServerIncarnation(rs.getString(4));
            String lineage = withLineage ? rs.getString(5) + "/" + rs.getString(6) : null;
            return new ReplicaReading(inRecovery, replayText, replayAgeMillis, incarnation, lineage);
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
