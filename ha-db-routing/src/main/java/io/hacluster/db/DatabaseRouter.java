package io.hacluster.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes connections between a PostgreSQL master, read replicas and search replicas, with one
 * HikariCP pool per server. The server is chosen when a connection is borrowed, from the replicas
 * the {@link ReplicaMonitor} last found healthy and within lag limits.
 *
 * <ul>
 *   <li>{@link #master()}: every write. A pool refuses, at connection time, a server in recovery.</li>
 *   <li>{@link #replica()}: round-robin over healthy replicas; the master when none is (or when
 *       {@linkplain #lockToMaster(boolean) locked to master}).</li>
 *   <li>{@link #searchReplica()}: search replicas, else {@link #replica()}.</li>
 *   <li>{@link #read(SqlFunction)} / {@link #searchRead(SqlFunction)}: a read that survives one
 *       replica failing mid-flight.</li>
 *   <li>{@link #consistencyToken()} / {@link #replica(ConsistencyToken)}: read-your-writes.</li>
 *   <li>{@link #reload(RouterSettings)}: swap pools (e.g. after a manual failover) without
 *       dropping borrowed connections; {@link #recycleConnections()}.</li>
 *   <li>{@link #dataSource()}: a plain {@link javax.sql.DataSource} that routes on read-only.</li>
 * </ul>
 *
 * <p>Every statement runs under the configured query timeout (set server-side at connection
 * start). All methods are thread-safe. Close the router to stop its thread and close all pools.
 */
public final class DatabaseRouter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DatabaseRouter.class);
    private static final long ROLE_CHECK_MIN_GAP_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long DRAIN_POLL_MILLIS = 100;

    private final RouterCounters counters = new RouterCounters();
    private final ScheduledExecutorService scheduler;
    private final RoundRobin roundRobin = new RoundRobin();
    private final ThreadLocal<Boolean> readOnlyScope = new ThreadLocal<>();
    private final List<Consumer<ServerStatus>> statusListeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean roleCheckPending = new AtomicBoolean();
    private final Object lifecycle = new Object();
    private final List<Generation> draining = new ArrayList<>();
    private final RoutingDataSource dataSource;

    private volatile Generation current;
    private volatile boolean lockedToMaster;
    private volatile boolean closed;
    private volatile long lastRoleCheckNanos = System.nanoTime() - ROLE_CHECK_MIN_GAP_NANOS;

    private DatabaseRouter(RouterSettings settings) {
        String threadName = "ha-" + settings.name() + "-db-monitor";
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        this.dataSource = new RoutingDataSource(this);
    }

    /**
     * Builds the pools, checks every server once and starts the monitor. An unreachable replica
     * only starts out of rotation; the master must be reachable and not in recovery. A first
     * master check that times out is repeated within the connection timeout.
     *
     * @throws SQLException naming the master's masked DSN if it is unreachable (SQLState 08001),
     *     refuses the credentials (its class-28 SQLState, e.g. 28P01) or is a standby
     */
    public static DatabaseRouter start(RouterSettings settings) throws SQLException {
        DatabaseRouter router = new DatabaseRouter(settings);
        try {
            router.current = router.startGeneration(settings);
        } catch (SQLException | RuntimeException e) {
            router.scheduler.shutdownNow();
            throw e;
        }
        return router;
    }

    private Generation startGeneration(RouterSettings settings) throws SQLException {
        Generation[] self = new Generation[1];
        Server.Listener listener = (server, status) -> {
            Generation g = self[0];
            if (g != null && !g.retired) {
                g.topology.rebuildRotation();
                for (Consumer<ServerStatus> l : statusListeners) {
                    try {
                        l.accept(status);
                    } catch (RuntimeException e) {
                        log.warn("server status listener failed", e);
                    }
                }
            }
        };
        Generation generation = Generation.start(settings, listener, counters, this::requestMasterRoleCheck);
        self[0] = generation;
        long interval = settings.monitorIntervalSeconds();
        generation.ticks = scheduler.scheduleWithFixedDelay(() -> tick(generation), interval, interval,
                TimeUnit.SECONDS);
        log.info("database router started: {}", settings);
        return generation;
    }

    private void tick(Generation generation) {
        if (generation.retired) {
            return;
        }
        try {
            generation.monitor.checkAll();
        } catch (RuntimeException e) {
            // Never let one bad tick cancel the schedule.
            log.error("replica monitor tick failed", e);
        }
    }

    private Topology topology() throws SQLException {
        Generation g = current;
        if (closed || g == null) {
            throw new SQLException("database router is closed", "08003");
        }
        return g.topology;
    }

    /**
     * A connection to the master, for writes and for reads that must see the latest data.
     *
     * @throws SQLException if the master is known to be a standby (without sending anything to
     *     it), or if no connection could be had within the connection timeout
     */
    public Connection master() throws SQLException {
        while (true) {
            Server master = topology().master;
            if (master.state() == ServerState.WRONG_ROLE) {
                throw new SQLException("master " + master.label()
                        + " is in recovery (a standby); reload with the promoted server", SqlStates.WRONG_ROLE);
            }
            try {
                return master.borrow();
            } catch (PoolRetiredException e) {
                // A reload replaced the pool while this thread waited: wait on the new one instead.
                log.debug("{}", e.getMessage());
            }
        }
    }

    /** A connection to a healthy replica (round-robin), else to the master. */
    public Connection replica() throws SQLException {
        Topology t = topology();
        if (lockedToMaster || t.replicas.length == 0) {
            return master();
        }
        // The hot path: no allocation, at most one thread-local read, the pool's own borrow.
        Server[] rotation = t.replicaRotation();
        int n = rotation.length;
        if (n > 0) {
            Connection c = RoundRobin.borrowInTurn(rotation, roundRobin.nextStart(RoundRobin.REPLICAS, n));
            if (c != null) {
                return c;
            }
        }
        counters.replicaFallbacks.increment();
        return master();
    }

    /**
     * A connection to a search replica (round-robin over healthy ones), else {@link #replica()}.
     */
    public Connection searchReplica() throws SQLException {
        Topology t = topology();
        if (lockedToMaster) {
            return master();
        }
        if (t.searchReplicas.length > 0) {
            RoundRobin.Borrowed b = roundRobin.fromRotation(t.searchRotation(), RoundRobin.SEARCH, null);
            if (b != null) {
                return b.connection();
            }
            counters.searchFallbacks.increment();
        }
        return replica();
    }

    /**
     * A connection that sees everything {@code token} covers: a healthy replica known to have
     * replayed the token's position (from the monitor, or from one live probe of the next replica
     * in rotation), else the master. A null token means {@link #replica()}.
     */
    public Connection replica(ConsistencyToken token) throws SQLException {
        if (token == null) {
            return replica();
        }
        Topology t = topology();
        if (lockedToMaster || t.replicas.length == 0) {
            return master();
        }
        Server[] rotation = t.replicaRotation();
        int n = rotation.length;
        if (n > 0) {
            Connection c = TokenReads.covering(rotation, roundRobin.nextStart(RoundRobin.REPLICAS, n), token);
            if (c != null) {
                return c;
            }
        }
        counters.tokenFallbacks.increment();
        return master();
    }

    /**
     * The master's current WAL insert position, taken on a master connection: call it after
     * the write committed. Pass the result to {@link #replica(ConsistencyToken)} or
     * {@link #read(ConsistencyToken, SqlFunction)} for reads that must see that write.
     */
    public ConsistencyToken consistencyToken() throws SQLException {
        try (Connection c = master()) {
            return consistencyToken(c);
        }
    }

    /**
     * Like {@link #consistencyToken()} on a master connection the caller already holds (saves a
     * borrow). Call it after the write committed (in auto-commit mode: right after the
     * statement). A token taken inside the still-open transaction does not cover it: the commit
     * record is written later in the WAL.
     */
    public static ConsistencyToken consistencyToken(Connection masterConnection) throws SQLException {
        // The insert position, not the write position: with synchronous_commit=off the commit
        // record may not be written yet, and a token below it would let a stale replica answer.
        try (Statement st = masterConnection.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()::text")) {
            rs.next();
            return new ConsistencyToken(Lsn.parse(rs.getString(1)));
        }
    }

    /**
     * Runs a read on a replica; if it fails because the server failed (connection lost,
     * shutdown, a recovery conflict, no connection in time), runs it once more on another
     * replica, and if that fails too, on the master. Errors in the statement itself are thrown
     * at once. The work may run more than once, so it must not write.
     */
    public <T> T read(SqlFunction<T> work) throws SQLException {
        return read(null, work);
    }

    /** {@link #read(SqlFunction)} for a read that must see what {@code token} covers. */
    public <T> T read(ConsistencyToken token, SqlFunction<T> work) throws SQLException {
        Topology t = topology();
        RoundRobin.Borrowed first;
        if (token != null) {
            // A token read that fails goes to the master: it alone is sure to cover the token.
            first = new RoundRobin.Borrowed(replica(token), null);
        } else {
            first = fromReplicas(t);
        }
        return RetryingRead.run(first, failed -> roundRobin.fromRotation(t.replicaRotation(), RoundRobin.REPLICAS,
                failed), this::master, work, counters);
    }

    /**
     * {@link #read(SqlFunction)} for search: runs on a search replica (else as {@link #read}
     * would); if the server fails, once more on another search replica or else on a replica, and
     * then on the master.
     */
    public <T> T searchRead(SqlFunction<T> work) throws SQLException {
        Topology t = topology();
        if (lockedToMaster || t.searchReplicas.length == 0) {
            return read(work);
        }
        RoundRobin.Borrowed first = roundRobin.fromRotation(t.searchRotation(), RoundRobin.SEARCH, null);
        if (first == null) {
            counters.searchFallbacks.increment();
            return read(work);
        }
        return RetryingRead.run(first, failed -> {
            RoundRobin.Borrowed other = roundRobin.fromRotation(t.searchRotation(), RoundRobin.SEARCH, failed);
            return other != null ? other : roundRobin.fromRotation(t.replicaRotation(), RoundRobin.REPLICAS, failed);
        }, this::master, work, counters);
    }

    /** A replica connection, or the master's (with a null server) when locked or none lends one. */
    private RoundRobin.Borrowed fromReplicas(Topology t) throws SQLException {
        if (!lockedToMaster && t.replicas.length > 0) {
            RoundRobin.Borrowed b = roundRobin.fromRotation(t.replicaRotation(), RoundRobin.REPLICAS, null);
            if (b != null) {
                return b;
            }
            counters.replicaFallbacks.increment();
        }
        return new RoundRobin.Borrowed(master(), null);
    }

    /**
     * While true, {@link #replica()}, {@link #searchReplica()} and reads go to the master
     * (Mattermost's lockedToMaster, e.g. during migrations).
     */
    public void lockToMaster(boolean locked) {
        if (lockedToMaster != locked) {
            log.info("database router {} to master", locked ? "locked" : "unlocked");
        }
        lockedToMaster = locked;
    }

    public boolean isLockedToMaster() {
        return lockedToMaster;
    }

    /**
     * Runs {@code work} with this thread marked read-only: connections that
     * {@link #dataSource()} hands out inside it go to a replica. Scopes nest.
     */
    public <T> T readOnly(SqlSupplier<T> work) throws SQLException {
        Boolean previous = readOnlyScope.get();
        readOnlyScope.set(Boolean.TRUE);
        try {
            return work.get();
        } finally {
            if (previous == null) {
                readOnlyScope.remove();
            } else {
                readOnlyScope.set(previous);
            }
        }
    }

    boolean inReadOnlyScope() {
        return readOnlyScope.get() != null;
    }

    /** A {@link javax.sql.DataSource} for code that only knows JDBC; see {@link RoutingDataSource}. */
    public RoutingDataSource dataSource() {
        return dataSource;
    }

    /**
     * Switches to new settings: new pools are built and the new master is checked first (on
     * failure the old settings stay and the error is thrown); then new borrows go to the new
     * pools at once, while the old pools close when their borrowed connections have come back,
     * or after {@code drainTimeoutMillis} of the new settings. Also the manual master failover:
     * point the master at the promoted server.
     */
    public void reload(RouterSettings settings) throws SQLException {
        synchronized (lifecycle) {
            if (closed) {
                throw new SQLException("database router is closed", "08003");
            }
            Generation fresh = startGeneration(settings);
            Generation old = current;
            current = fresh;
            log.info("database router reloaded; draining the previous pools");
            retire(old, settings.drainTimeoutMillis());
        }
    }

    private void retire(Generation old, long drainTimeoutMillis) {
        old.retire();
        old.topology.all().forEach(Server::softEvict);
        draining.add(old);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainTimeoutMillis);
        scheduler.schedule(() -> drain(old, deadline), 0, TimeUnit.MILLISECONDS);
    }

    private void drain(Generation old, long deadline) {
        int active = old.topology.activeConnections();
        boolean timedOut = System.nanoTime() - deadline >= 0;
        if (active > 0 && !timedOut && !closed) {
            scheduler.schedule(() -> drain(old, deadline), DRAIN_POLL_MILLIS, TimeUnit.MILLISECONDS);
            return;
        }
        if (active > 0 && timedOut) {
            log.warn("closing previous pools with {} connections still borrowed after the drain timeout", active);
        }
        synchronized (lifecycle) {
            draining.remove(old);
        }
        old.topology.close();
    }

    /**
     * Soft-evicts every pool: idle connections close now, borrowed ones when returned, and new
     * ones are opened on demand (Mattermost's "recycle database connections").
     */
    public void recycleConnections() throws SQLException {
        for (Server s : topology().all()) {
            s.softEvict();
            counters.evictions.increment();
        }
        log.info("database connections recycled");
    }

    private void requestMasterRoleCheck() {
        long now = System.nanoTime();
        if (now - lastRoleCheckNanos < ROLE_CHECK_MIN_GAP_NANOS || !roleCheckPending.compareAndSet(false, true)) {
            return;
        }
        Generation g = current;
        try {
            scheduler.execute(() -> {
                try {
                    if (!g.retired) {
                        g.monitor.checkMaster();
                    }
                } finally {
                    lastRoleCheckNanos = System.nanoTime();
                    roleCheckPending.set(false);
                }
            });
        } catch (RuntimeException e) {
            // Rejected because the router is closing.
            roleCheckPending.set(false);
        }
    }

    /** Called with every server state change, on the thread that saw it; keep it short. */
    public void addStatusListener(Consumer<ServerStatus> listener) {
        statusListeners.add(listener);
    }

    /** The master, then replicas, then search replicas, as last seen. */
    public List<ServerStatus> servers() throws SQLException {
        List<ServerStatus> out = new ArrayList<>();
        for (Server s : topology().all()) {
            out.add(s.status());
        }
        return out;
    }

    /** Pools, servers and counters right now. */
    public RouterMetrics metrics() throws SQLException {
        Topology t = topology();
        List<PoolMetrics> pools = new ArrayList<>();
        List<ServerStatus> servers = new ArrayList<>();
        for (Server s : t.all()) {
            pools.add(s.poolMetrics());
            servers.add(s.status());
        }
        return new RouterMetrics(pools, servers, counters.replicaFallbacks.sum(), counters.searchFallbacks.sum(),
                counters.tokenFallbacks.sum(), counters.readRetries.sum(), counters.evictions.sum(),
                counters.markedDown.sum(), lockedToMaster);
    }

    /** The settings in force. */
    public RouterSettings settings() throws SQLException {
        return topology().settings;
    }

    /** Stops the monitor and closes every pool, including pools still draining after a reload. */
    @Override
    public void close() {
        List<Generation> toClose = new ArrayList<>();
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            Generation g = current;
            if (g != null) {
                g.retire();
                toClose.add(g);
            }
            toClose.addAll(draining);
            draining.clear();
        }
        // A running check is bounded by healthCheckTimeoutMillis; let it finish rather than
        // interrupt the driver mid-read.
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
                scheduler.shutdownNow();
            }
        } catch (InterruptedException e) {
            scheduler.shutdownNow();
            Thread.currentThread().interrupt();
        }
        for (Generation g : toClose) {
            g.topology.close();
        }
    }
}
