package io.hacluster.db;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import com.zaxxer.hikari.pool.HikariPool;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
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
    /**
     * A borrow waits in slices of this length, so a thread waiting on a pool that a reload has
     * retired moves to the new pool within one slice instead of after the whole connection
     * timeout (HikariCP wakes no waiter when a pool is retired or closed).
     */
    static final long BORROW_SLICE_MILLIS = 200;

    /** Receives every state change, after it happened. */
    interface Listener {
        void stateChanged(Server server, ServerStatus status);
    }

    private final Dsn dsn;
    private final ServerTier tier;
    private final String label;
    private final HikariDataSource pool;
    /** The same pool, borrowed from with a timeout per call. */
    private final HikariPool hikari;
    private final long connectionTimeoutMillis;
    private final long firstWaitMillis;
    private final OpenedConnections opened = new OpenedConnections();
    private final PGSimpleDataSource healthDataSource;
    private final Listener listener;
    private final RouterCounters counters;

    private volatile ServerStatus status;
    /** What this server is known to have replayed, on which incarnation; null: nothing known. */
    private volatile KnownReplay knownReplay;
    /** Set when a reload or close replaced this server's topology. */
    private volatile boolean retired;
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
                new ServerExceptionOverride(this, masterReadOnlyHook, counters), opened);
        // Built from a configuration, a HikariDataSource creates its pool at once.
        this.hikari = (HikariPool) Objects.requireNonNull(pool.getHikariPoolMXBean(), "pool");
        this.connectionTimeoutMillis = settings.connectionTimeoutMillis();
        this.firstWaitMillis = Math.min(BORROW_SLICE_MILLIS, connectionTimeoutMillis);
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

    /** What this server is known to have replayed, or null. */
    KnownReplay knownReplay() {
        return knownReplay;
    }

    /** The incarnation a connection borrowed from this server reached, or null if unknown. */
    ServerIncarnation incarnationOf(Connection borrowed) {
        return opened.incarnationOf(borrowed);
    }

    /**
     * The monitor measured this server's replay position: it replaces what was known, also when it
     * is lower or was measured on another incarnation (another server now answers the DSN).
     */
    void measuredReplay(ServerIncarnation incarnation, long lsn) {
        KnownReplay before = knownReplay;
        if (before != null && !before.incarnation().equals(incarnation)) {
            log.info("{} {}: another server answers this DSN now (started {}, before {}); replay position {} -> {}",
                    tier.shortName(), label, incarnation.postmasterStartTime(),
                    before.incarnation().postmasterStartTime(), Lsn.format(before.lsn()), Lsn.format(lsn));
        } else if (before != null && Long.compareUnsigned(lsn, before.lsn()) < 0) {
            // On one incarnation replay only grows, so this is a probe that measured later than
            // this check, or two servers indistinguishable by start time: trust the lower one.
            log.debug("{} {}: replay position {} -> {}", tier.shortName(), label, Lsn.format(before.lsn()),
                    Lsn.format(lsn));
        }
        knownReplay = new KnownReplay(incarnation, lsn);
    }

    /** A token read probed a borrowed connection: raises what is known if it is the same incarnation. */
    void probedReplay(ServerIncarnation incarnation, long lsn) {
        if (incarnation == null) {
            return;
        }
        KnownReplay before = knownReplay;
        if (before == null || (before.incarnation().equals(incarnation) && Long.compareUnsigned(lsn, before.lsn()) > 0)) {
            knownReplay = new KnownReplay(incarnation, lsn);
        }
    }

    /** Forgets the known replay position: after an outage or a change of server, nothing carries over. */
    void forgetReplay(String why) {
        if (knownReplay != null) {
            knownReplay = null;
            log.debug("{} {}: known replay position forgotten ({})", tier.shortName(), label, why);
        }
    }

    long markedDownAtNanos() {
        return markedDownAtNanos;
    }

    /**
     * A connection from this server's pool, waiting at most the connection timeout. The first wait
     * is one slice; only a borrow that has to wait longer allocates anything.
     *
     * @throws PoolRetiredException if a reload retired this server while the thread waited
     */
    Connection borrow() throws SQLException {
        if (pool.isClosed()) {
            throw new SQLTransientConnectionException(tier.shortName() + " " + label + ": pool closed", "08003");
        }
        try {
            return hikari.getConnection(firstWaitMillis);
        } catch (SQLTransientConnectionException timedOut) {
            return keepWaiting(timedOut);
        }
    }

    private Connection keepWaiting(SQLTransientConnectionException firstTimeout) throws SQLException {
        SQLTransientConnectionException last = firstTimeout;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(connectionTimeoutMillis - firstWaitMillis);
        while (true) {
            if (retired) {
                throw new PoolRetiredException(tier.shortName() + " " + label);
            }
            long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (leftMillis <= 0 || pool.isClosed()) {
                // Same SQLState and cause as HikariCP's own timeout, so it classifies the same.
                throw new SQLTransientConnectionException(tier.shortName() + " " + label + " lent no connection within "
                        + connectionTimeoutMillis + " ms (" + last.getMessage() + ")", last.getSQLState(), last.getCause());
            }
            try {
                return hikari.getConnection(Math.min(BORROW_SLICE_MILLIS, leftMillis));
            } catch (SQLTransientConnectionException timedOut) {
                last = timedOut;
            }
        }
    }

    /** The topology this server belongs to was replaced: waiting borrowers give up and go to the new one. */
    void retire() {
        retired = true;
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

    /**
     * The monitor found this server down: out of rotation, and every connection to it aborted, so
     * threads blocked on a stalled server fail now (and reads retry elsewhere) rather than at the
     * socket timeout. Also when it was already down: connections may have been opened since. Not
     * when the server answered, only refusing a new session (too many connections, a login
     * refused): the connections it already serves are fine. The master's are never aborted: a
     * write in flight cannot be retried elsewhere.
     */
    void checkFailed(SQLException failure) {
        transition(ServerState.DOWN, SqlStates.describe(failure), -1, -1);
        if (tier != ServerTier.MASTER && !SqlStates.isSessionRefused(failure)) {
            int aborted = opened.abortAll(label);
            if (aborted > 0) {
                log.warn("{} {}: aborted {} open connections", tier.shortName(), label, aborted);
            }
        }
    }

    /** Drops connections the pool closed from the tracked ones (the monitor calls it each check). */
    void pruneConnections() {
        opened.prune();
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
            if (isBad(next) || isBad(current.state()) || current.state() == ServerState.UNKNOWN) {
                // Down, back, or first seen: a position known from before may belong to another
                // server (a replaced standby, a moved address) and must be measured again.
                forgetReplay(current.state() + " -> " + next);
            }
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
