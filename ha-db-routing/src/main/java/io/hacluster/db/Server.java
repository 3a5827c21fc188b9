package io.hacluster.db;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One configured server: its pool, its health-check data source and what the router knows about
 * it. State changes are serialized on this object, logged once each, and reported to the owner so
 * it can rebuild the rotation.
 */
final class Server {

    private static final Logger log = LoggerFactory.getLogger(Server.class);

    /** Receives every state change, after it happened. */
    interface Listener {
        void stateChanged(Server server, ServerStatus status);
    }

    private final Dsn dsn;
    private final ServerTier tier;
    private final String label;
    private final HikariDataSource pool;
    private final PGSimpleDataSource healthDataSource;
    private final Listener listener;
    private final RouterCounters counters;

    private volatile ServerStatus status;
    /** Highest replay position seen (monotonic while the server lives); -1 unknown. */
    private volatile long replayLsn = -1;
    /** When a connection failure last took this server out, so an older health result does not undo it. */
    private volatile long markedDownAtNanos = System.nanoTime();

    Server(RouterSettings settings, ServerTier tier, Dsn dsn, Listener listener, RouterCounters counters,
           Runnable masterReadOnlyHook) {
        this.dsn = dsn;
        this.tier = tier;
        this.label = dsn.label();
        this.listener = listener;
        this.counters = counters;
        this.status = new ServerStatus(label, tier, ServerState.UNKNOWN, -1, -1, "not checked yet",
                System.currentTimeMillis());
        this.healthDataSource = ServerConnections.healthDataSource(settings, dsn);
        // The override only runs once connections are in use, after this constructor returned.
        this.pool = ServerConnections.pool(settings, tier, dsn,
                new ServerExceptionOverride(this, masterReadOnlyHook, counters));
    }

    Dsn dsn() {
        return dsn;
    }

    ServerTier tier() {
        return tier;
    }

    String label() {
        return label;
    }

    ServerStatus status() {
        return status;
    }

    ServerState state() {
        return status.state();
    }

    boolean inRotation() {
        return status.state() == ServerState.HEALTHY;
    }

    long replayLsn() {
        return replayLsn;
    }

    void observedReplay(long lsn) {
        if (replayLsn == -1 || Long.compareUnsigned(lsn, replayLsn) > 0) {
            replayLsn = lsn;
        }
    }

    long markedDownAtNanos() {
        return markedDownAtNanos;
    }

    Connection borrow() throws SQLException {
        return pool.getConnection();
    }

    /** A fresh, unpooled connection with short timeouts, for checks. */
    Connection openCheckConnection() throws SQLException {
        return healthDataSource.getConnection();
    }

    HikariDataSource pool() {
        return pool;
    }

    PoolMetrics poolMetrics() {
        HikariPoolMXBean bean = pool.getHikariPoolMXBean();
        if (bean == null) {
            return new PoolMetrics(pool.getPoolName(), tier, 0, 0, 0, 0);
        }
        return new PoolMetrics(pool.getPoolName(), tier, bean.getActiveConnections(), bean.getIdleConnections(),
                bean.getThreadsAwaitingConnection(), bean.getTotalConnections());
    }

    int activeConnections() {
        HikariPoolMXBean bean = pool.getHikariPoolMXBean();
        return bean == null ? 0 : bean.getActiveConnections();
    }

    /** Closes idle connections now and borrowed ones when they come back. */
    void softEvict() {
        HikariPoolMXBean bean = pool.getHikariPoolMXBean();
        if (bean != null) {
            bean.softEvictConnections();
        }
    }

    /** A connection to this server failed while in use: out of rotation now, not at the next check. */
    void connectionFailedInUse(String reason) {
        markedDownAtNanos = System.nanoTime();
        if (transition(ServerState.DOWN, "connection failed in use: " + reason, -1, -1)) {
            counters.markedDown.increment();
        }
    }

    /**
     * Records a new state with lag figures. Returns true if the state changed; only then is it
     * logged and reported, so a flapping reason or moving lag figure does not flood the log.
     */
    boolean transition(ServerState next, String reason, long lagBytes, long lagMillis) {
        ServerStatus changed;
        synchronized (this) {
            ServerStatus current = status;
            if (current.state() == next) {
                status = new ServerStatus(label, tier, next, lagBytes, lagMillis, current.reason(),
                        current.sinceEpochMillis());
                return false;
            }
            changed = new ServerStatus(label, tier, next, lagBytes, lagMillis, reason, System.currentTimeMillis());
            status = changed;
            if (isBad(next)) {
                log.warn("{} {}: {} -> {} ({})", tier.shortName(), label, current.state(), next, reason);
            } else {
                log.info("{} {}: {} -> {} ({})", tier.shortName(), label, current.state(), next, reason);
            }
            if (shouldEvict(current.state(), next)) {
                // Connections opened before a crash or role change are useless either way.
                softEvict();
                counters.evictions.increment();
            }
        }
        listener.stateChanged(this, changed);
        return true;
    }

    /**
     * Replicas: entering or leaving DOWN / WRONG_ROLE drops the pool's connections. The master only
     * does so around WRONG_ROLE: a failed health check alone is no proof its pooled connections are
     * dead (HikariCP validates idle ones on borrow anyway), and churning the write pool on a false
     * alarm hurts.
     */
    private boolean shouldEvict(ServerState from, ServerState to) {
        if (tier == ServerTier.MASTER) {
            return to == ServerState.WRONG_ROLE || from == ServerState.WRONG_ROLE;
        }
        return isBad(to) || isBad(from);
    }

    private static boolean isBad(ServerState state) {
        return state == ServerState.DOWN || state == ServerState.WRONG_ROLE;
    }

    void close() {
        pool.close();
    }

    @Override
    public String toString() {
        return tier.shortName() + " " + label;
    }
}
