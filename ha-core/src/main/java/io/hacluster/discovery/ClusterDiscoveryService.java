package io.hacluster.discovery;

import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Database-backed discovery, Mattermost's {@code ClusterDiscoveryService}: a node registers a
 * row in the master's {@code ClusterDiscovery} table, keeps its LastPingAt fresh, and learns
 * its peers' gossip addresses from the other fresh rows of its cluster.
 *
 * <p>{@link #start()} creates the table if missing, deletes stale rows, replaces this node's
 * row and returns the peers found. Then, every {@code pingInterval} on thread
 * {@code ha-<node>-discovery}, it refreshes LastPingAt (re-inserting the row if somebody
 * deleted it, e.g. after a long pause made it look stale) and hands the fresh peer rows to the
 * listener, so nodes that start later, or that come back after a partition, are joined too.
 * A failing refresh is logged and counted, and the next one tries again. {@link #close()}
 * stops the refresh and deletes this node's row.
 */
public final class ClusterDiscoveryService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterDiscoveryService.class);

    private final DiscoveryStore store;
    private final DiscoverySettings settings;
    private final String nodeId;
    private final TimeSource clock;
    private final Consumer<List<DiscoveryRow>> peerListener;
    private final ScheduledExecutorService executor;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong refreshFailures = new AtomicLong();
    private final AtomicLong reinserts = new AtomicLong();
    private volatile long createAt;

    /**
     * @param connections  master connections
     * @param settings     what to register
     * @param nodeId       the row id
     * @param clock        epoch millis (LastPingAt is wall-clock time, as in Mattermost); every node
     *                     sharing the table must agree on it, see {@link #usingDatabaseTime}
     * @param peerListener receives the fresh rows of the other nodes after every refresh; runs
     *                     on the discovery thread and must not block for long
     * @param threadName   name of the refresh thread, {@code ha-<node>-discovery}
     */
    public ClusterDiscoveryService(ConnectionSource connections, DiscoverySettings settings, String nodeId,
                                   LongSupplier clock, Consumer<List<DiscoveryRow>> peerListener,
                                   String threadName) {
        this(new DiscoveryStore(Objects.requireNonNull(connections)), settings, nodeId,
                asTimeSource(Objects.requireNonNull(clock)), peerListener, threadName);
    }

    /**
     * A service whose LastPingAt times, and the cut-offs it compares them with, are the
     * database's {@code clock_timestamp()} in epoch milliseconds, read once per registration,
     * refresh or listing: rows written by nodes whose clocks disagree are compared on one clock,
     * so a node ten minutes off neither deletes its peers' rows as stale nor has its own ignored.
     * The column keeps Mattermost's meaning (epoch milliseconds), so Mattermost servers with a
     * correct clock can share the table.
     *
     * @param connections  master connections (PostgreSQL)
     * @param settings     what to register
     * @param nodeId       the row id
     * @param peerListener as in the constructor
     * @param threadName   name of the refresh thread, {@code ha-<node>-discovery}
     */
    public static ClusterDiscoveryService usingDatabaseTime(ConnectionSource connections, DiscoverySettings settings,
                                                            String nodeId, Consumer<List<DiscoveryRow>> peerListener,
                                                            String threadName) {
        DiscoveryStore store = new DiscoveryStore(Objects.requireNonNull(connections));
        return new ClusterDiscoveryService(store, settings, nodeId, store::databaseMillis, peerListener, threadName);
    }

    /** Where "now" comes from: an application clock, or the database. */
    @FunctionalInterface
    private interface TimeSource {
        long millis() throws SQLException;
    }

    private static TimeSource asTimeSource(LongSupplier clock) {
        return clock::getAsLong;
    }

    private ClusterDiscoveryService(DiscoveryStore store, DiscoverySettings settings, String nodeId,
                                    TimeSource clock, Consumer<List<DiscoveryRow>> peerListener, String threadName) {
        this.store = store;
        this.settings = Objects.requireNonNull(settings);
        this.nodeId = Objects.requireNonNull(nodeId);
        this.clock = Objects.requireNonNull(clock);
        this.peerListener = Objects.requireNonNull(peerListener);
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.executor = ex;
    }

    /**
     * Registers this node and returns the other nodes' fresh rows.
     *
     * @throws SQLException when the master cannot be reached or written; nothing is scheduled then
     */
    public List<DiscoveryRow> start() throws SQLException {
        if (closed.get()) {
            throw new IllegalStateException("discovery service is closed");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("discovery service already started");
        }
        try {
            store.createTableIfMissing();
            long now = clock.millis();
            int removed = store.cleanup(now - settings.offlineAfter().toMillis());
            if (removed > 0) {
                LOG.info("removed {} stale discovery rows", removed);
            }
            createAt = now;
            store.replace(ownRow(now));
            List<DiscoveryRow> peers = peers(now);
            long interval = settings.pingInterval().toMillis();
            executor.scheduleWithFixedDelay(this::refresh, interval, interval, TimeUnit.MILLISECONDS);
            return peers;
        } catch (SQLException | RuntimeException e) {
            executor.shutdownNow();
            closed.set(true);
            try {
                store.delete(nodeId);
            } catch (SQLException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The other nodes' fresh rows, read now from the master. */
    public List<DiscoveryRow> peers() throws SQLException {
        return peers(clock.millis());
    }

    /** How many refreshes failed (database errors) since start. */
    public long refreshFailures() {
        return refreshFailures.get();
    }

    /** How many times this node's row had disappeared and was inserted again. */
    public long reinserts() {
        return reinserts.get();
    }

    private List<DiscoveryRow> peers(long now) throws SQLException {
        return store.list(settings.type(), settings.clusterName(), now - settings.offlineAfter().toMillis())
                .stream().filter(r -> !r.id().equals(nodeId)).toList();
    }

    private DiscoveryRow ownRow(long now) {
        return new DiscoveryRow(nodeId, settings.type(), settings.clusterName(), settings.hostname(),
                settings.gossipPort(), settings.port(), createAt, now);
    }

    private void refresh() {
        if (closed.get()) {
            return;
        }
        try {
            long now = clock.millis();
            if (!store.touch(nodeId, now)) {
                reinserts.incrementAndGet();
                LOG.warn("discovery row of this node was gone (deleted as stale?); inserting it again");
                store.replace(ownRow(now));
            }
            List<DiscoveryRow> peers = peers(now);
            peerListener.accept(peers);
        } catch (SQLException e) {
            refreshFailures.incrementAndGet();
            LOG.warn("discovery refresh failed (SQLState {}): {}; retrying in {}", e.getSQLState(), e.getMessage(),
                    settings.pingInterval());
        } catch (RuntimeException e) {
            // A failing listener must not cancel the periodic task.
            refreshFailures.incrementAndGet();
            LOG.warn("discovery refresh failed", e);
        }
    }

    /** Stops refreshing and deletes this node's row. Idempotent; a database error is logged. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!started.get()) {
            return;
        }
        try {
            store.delete(nodeId);
        } catch (SQLException e) {
            LOG.warn("could not delete this node's discovery row (SQLState {}): {}; it goes stale after {}",
                    e.getSQLState(), e.getMessage(), settings.offlineAfter());
        }
    }
}
