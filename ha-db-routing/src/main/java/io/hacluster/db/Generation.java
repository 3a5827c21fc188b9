package io.hacluster.db;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One settings generation of a router: its servers, their monitor and its schedule. A reload
 * starts a new one and retires the old, whose pools drain and close.
 */
final class Generation {

    private static final Logger log = LoggerFactory.getLogger(Generation.class);
    /** Between master checks at start, so a refused retry does not spin. */
    private static final long START_RETRY_PAUSE_MILLIS = 100;

    final Topology topology;
    final ReplicaMonitor monitor;
    volatile ScheduledFuture<?> ticks;
    volatile boolean retired;

    private Generation(Topology topology) {
        this.topology = topology;
        this.monitor = new ReplicaMonitor(topology);
    }

    /**
     * Builds the pools and checks every server once. An unreachable replica only starts out of
     * rotation; the master must be reachable and not in recovery. A master check that times out
     * (a slow first connection in a fresh JVM, a loaded host) is repeated within the connection
     * timeout; a refusal, an authentication failure or a standby is final.
     */
    static Generation start(RouterSettings settings, Server.Listener listener, RouterCounters counters,
                            Runnable masterReadOnlyHook) throws SQLException {
        Topology topology = build(settings, listener, counters, masterReadOnlyHook);
        Generation generation = new Generation(topology);
        SQLException masterFailure;
        try {
            masterFailure = generation.checkMasterWithinConnectionTimeout(settings);
        } catch (RuntimeException e) {
            topology.close();
            throw e;
        }
        if (masterFailure != null || topology.master.state() != ServerState.HEALTHY) {
            topology.close();
            throw masterRefused(settings, masterFailure);
        }
        for (Server s : topology.replicas) {
            generation.monitor.checkReplica(s);
        }
        for (Server s : topology.searchReplicas) {
            generation.monitor.checkReplica(s);
        }
        topology.rebuildRotation();
        return generation;
    }

    private static Topology build(RouterSettings settings, Server.Listener listener, RouterCounters counters,
                                  Runnable masterReadOnlyHook) {
        List<Server> created = new ArrayList<>();
        try {
            Server master = new Server(settings, ServerTier.MASTER, settings.master(), listener, counters,
                    masterReadOnlyHook);
            created.add(master);
            List<Server> replicas = new ArrayList<>();
            for (Dsn dsn : settings.replicas()) {
                Server s = new Server(settings, ServerTier.REPLICA, dsn, listener, counters, () -> { });
                created.add(s);
                replicas.add(s);
            }
            List<Server> search = new ArrayList<>();
            for (Dsn dsn : settings.searchReplicas()) {
                Server s = new Server(settings, ServerTier.SEARCH_REPLICA, dsn, listener, counters, () -> { });
                created.add(s);
                search.add(s);
            }
            return new Topology(settings, master, replicas, search);
        } catch (RuntimeException e) {
            created.forEach(Server::close);
            throw e;
        }
    }

    private SQLException checkMasterWithinConnectionTimeout(RouterSettings settings) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.connectionTimeoutMillis());
        while (true) {
            SQLException failure = monitor.checkMaster();
            if (failure == null || !SqlStates.isTimeout(failure) || SqlStates.isAuthenticationFailure(failure)
                    || System.nanoTime() - deadline >= 0) {
                return failure;
            }
            log.info("master {}: first check timed out, trying again ({})", settings.master().masked(),
                    SqlStates.describe(failure));
            try {
                Thread.sleep(START_RETRY_PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return failure;
            }
        }
    }

    private static SQLException masterRefused(RouterSettings settings, SQLException failure) {
        String master = "master " + settings.master().masked() + " ";
        if (failure == null) {
            return new SQLException(master + "is in recovery (a standby); refusing to send writes to it",
                    SqlStates.WRONG_ROLE);
        }
        if (SqlStates.isAuthenticationFailure(failure)) {
            // Reachable, but the credentials (or pg_hba.conf) are wrong: say so, with the server's SQLState.
            return new SQLException(master + "authentication failed: " + SqlStates.describe(failure),
                    SqlStates.authenticationFailureState(failure), failure);
        }
        return new SQLException(master + "is unreachable: " + SqlStates.describe(failure), "08001", failure);
    }

    /** Marks this generation replaced: its checks stop changing state, its waiting borrowers move on. */
    void retire() {
        retired = true;
        topology.retire();
        ScheduledFuture<?> t = ticks;
        if (t != null) {
            t.cancel(false);
        }
    }
}
