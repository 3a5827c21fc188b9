package io.hacluster.election;

import io.hacluster.discovery.ConnectionSource;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's bully election (issue 9): among the live members that may lead, the lowest node id
 * is the leader; with a lease database the winner must also hold the lease.
 *
 * <p>One state machine per node, confined to its own single thread {@code ha-<id>-election}: it
 * is fed membership events (gossip is the failure detector; {@link #memberAlive},
 * {@link #memberGone}, in gossip's order) and election messages ({@link #receive}), and it sends
 * ELECTION, ANSWER and COORDINATOR through the sender it was given (the reliable channel). Every
 * message carries an epoch; one below the highest this node has seen is ignored (and answered
 * with that highest, so a stale sender can catch up). A candidate runs at {@code max(seen,
 * persisted) + 1}; with a database the epoch is persisted in the lease row by {@code acquire}.
 * See docs/election.md for the protocol and its cases.
 *
 * <p>{@link #isLeader()} and {@link #leader()} read a published snapshot plus the lease holder's
 * monotonic deadline, so they are correct the moment a renewal deadline passes, without the
 * election thread. Listeners run on {@code ha-<id>-leader-listeners}, one at a time, in order,
 * never on the election thread and never under a lock of the election.
 *
 * <p>For {@code ClusterNode}; applications use its {@code isLeader()}, {@code leader()},
 * {@code onLeaderChange} and {@code awaitLeader}.
 */
public final class Election implements AutoCloseable {

    /** The reliable messaging event of election messages; reserved. */
    public static final String EVENT = ElectionMessage.EVENT;

    /** How long a candidate waits for an ANSWER from a lower id before it declares itself. */
    static final Duration ANSWER_TIMEOUT = Duration.ofMillis(250);
    /** How long a node that is not the lowest waits for a COORDINATOR before it asks the lower ids. */
    static final Duration NUDGE_AFTER = Duration.ofSeconds(1);
    /** How long a leaving leader waits for its RESIGN to be handled by every member. */
    static final Duration RESIGN_WAIT = Duration.ofSeconds(2);
    /** How often the election thread turns a passed renew deadline into a transition. */
    static final Duration DEMOTION_CHECK = Duration.ofMillis(100);
    /** Consecutive answered probes (one per retry period) before a node that stood aside runs again. */
    static final int REJOIN_AFTER_PROBES = 2;

    private static final Logger LOG = LoggerFactory.getLogger(Election.class);

    private final String self;
    private final String cluster;
    private final boolean mayLead;
    private final int quorum;
    private final LeaseSettings leaseSettings;
    private final LeaseStore store;
    private final LeaseHolder holder;
    private final BiFunction<String, byte[], CompletableFuture<?>> sender;
    private final LeaderPublisher publisher;
    /** The election thread: every decision of {@link BullyMachine} runs here, one at a time. */
    private final ScheduledThreadPoolExecutor thread;
    /** Renews the lease, so a statement stuck in the database never stalls the election thread. */
    private final ScheduledThreadPoolExecutor leaseThread;
    private final BullyMachine machine;

    private volatile ElectionView view = ElectionView.INITIAL;
    private volatile boolean stopped;
    /** When a lease statement last reached the database (monotonic nanos). */
    private volatile long lastLeaseContactNanos = System.nanoTime();
    /** Lease thread only. */
    private boolean leaseWarned;
    /** Lease thread only: consecutive probes the database answered while this node stands aside. */
    private int goodProbes;

    /**
     * @param nodeId this node's id
     * @param clusterName the cluster (the lease row's key)
     * @param mayLead whether this node may be elected ({@code JobSettings.RunScheduler})
     * @param quorum minimum number of live members (this node included) for a leader; 0 or 1 for none
     * @param leaseSettings lease timing, used with a lease database
     * @param leaseDatabase master connections for the lease, or null for the bully rule alone
     * @param sender sends a payload of {@link #EVENT} reliably to one node, completing once the
     *     target handled it; must not block
     * @param listeners leader listeners; the list may grow later (a concurrent list)
     */
    public Election(String nodeId, String clusterName, boolean mayLead, int quorum, LeaseSettings leaseSettings,
                    ConnectionSource leaseDatabase, BiFunction<String, byte[], CompletableFuture<?>> sender,
                    List<Consumer<LeaderChange>> listeners) {
        this(nodeId, clusterName, mayLead, quorum, leaseSettings, leaseDatabase, sender, listeners, Clock.systemUTC());
    }

    /**
     * As the other constructor, with the wall clock {@code wallClock}. The election reads it for
     * one thing only, the {@link LeaderInfo#since() since} a leader declares (display); every
     * decision is taken on the monotonic clock ({@code System.nanoTime}) or, for the lease, in
     * database time. A clock that is off (a drill, a host whose NTP failed) changes nothing but
     * that display.
     *
     * @param wallClock the wall clock, e.g. {@code ClusterNodeBuilder.clock(...)}
     */
    public Election(String nodeId, String clusterName, boolean mayLead, int quorum, LeaseSettings leaseSettings,
                    ConnectionSource leaseDatabase, BiFunction<String, byte[], CompletableFuture<?>> sender,
                    List<Consumer<LeaderChange>> listeners, Clock wallClock) {
        Objects.requireNonNull(wallClock, "wallClock");
        this.self = Objects.requireNonNull(nodeId, "nodeId");
        this.cluster = Objects.requireNonNull(clusterName, "clusterName");
        this.mayLead = mayLead;
        if (quorum < 0) {
            throw new IllegalArgumentException("quorum must not be negative, got " + quorum);
        }
        this.quorum = quorum;
        this.leaseSettings = Objects.requireNonNull(leaseSettings, "leaseSettings");
        this.sender = Objects.requireNonNull(sender, "sender");
        this.publisher = new LeaderPublisher(nodeId, clusterName, Objects.requireNonNull(listeners, "listeners"));
        this.store = leaseDatabase == null ? null : new LeaseStore(leaseDatabase);
        this.holder = store == null ? null
                : new LeaseHolder(store, clusterName, nodeId, leaseSettings, MonotonicClock.SYSTEM);
        this.thread = new ScheduledThreadPoolExecutor(1, daemon("ha-" + nodeId + "-election"));
        thread.setRemoveOnCancelPolicy(true);
        thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.leaseThread = new ScheduledThreadPoolExecutor(1, daemon("ha-" + nodeId + "-lease"));
        leaseThread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.machine = new BullyMachine(nodeId, clusterName, mayLead, quorum, leaseSettings, holder, wallClock, thread,
                new MachineHost());
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Creates the lease table when missing and reads the persisted epoch; without a database it
     * does nothing. Call before the node joins, so a database problem fails the start.
     */
    public void prepare() throws SQLException {
        if (store == null) {
            return;
        }
        store.createSchemaIfMissing();
        long persisted = store.highestEpoch(cluster);
        run(() -> machine.persistedEpoch(persisted));
    }

    /** Starts electing (call once the node has joined), and renewing the lease with a database. */
    public void start() {
        run(machine::start);
        if (holder != null) {
            long every = leaseSettings.retryPeriod().toMillis();
            long check = Math.max(10, Math.min(DEMOTION_CHECK.toMillis(), every / 4));
            try {
                leaseThread.scheduleWithFixedDelay(() -> guarded(this::renewTick), every, every, TimeUnit.MILLISECONDS);
                thread.scheduleWithFixedDelay(() -> guarded(machine::demotionCheck), check, check, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException stopping) {
                // closed while starting
            }
        }
    }

    /**
     * Stops: this node leads no longer from the first moment, releases the lease it holds (so
     * another node can take it at once), tells the listeners, and stops its threads. Bounded by
     * the lease statement's timeout.
     */
    @Override
    public void close() {
        if (!stopped) {  // after halt() there is nothing to release: only the threads to wait for
            stopped = true;
            try {
                List<CompletableFuture<?>> resigns = thread.submit(machine::resign).get(10, TimeUnit.SECONDS);
                CompletableFuture.allOf(resigns.toArray(CompletableFuture[]::new))
                        .get(RESIGN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                LOG.warn("node {}: the election did not stop cleanly: {}", self, e.toString());
            }
        }
        thread.shutdownNow();
        leaseThread.shutdownNow();
        publisher.close();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
            leaseThread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * For crash tests: stops at once, releases nothing and sends nothing, as a killed process;
     * {@link #close()} afterwards only waits for the threads.
     */
    public void halt() {
        stopped = true;
        thread.shutdownNow();
        leaseThread.shutdownNow();
        publisher.halt();
    }

    // ---------------------------------------------------------------- inputs (any thread)

    /** A member is alive or suspect (gossip's thread, in order); {@code mayLead} from its meta. */
    public void memberAlive(String id, boolean mayLead) {
        if (!id.equals(self)) {
            run(() -> machine.memberAlive(id, mayLead));
        }
    }

    /** A member is dead ({@code left} false) or left gracefully (gossip's thread, in order). */
    public void memberGone(String id, boolean left) {
        if (!id.equals(self)) {
            run(() -> machine.memberGone(id, left));
        }
    }

    /** An election message from {@code senderId} (a messaging handler thread). */
    public void receive(String senderId, byte[] payload) {
        ElectionMessage message;
        try {
            message = ElectionMessage.decode(payload);
        } catch (IllegalArgumentException e) {
            LOG.warn("node {}: unreadable election message from {}: {}", self, senderId, e.getMessage());
            return;
        }
        run(() -> machine.handle(senderId, message));
    }

    // ---------------------------------------------------------------- outputs (any thread)

    /**
     * Whether this node leads now: it won the election, the quorum (if any) holds, and with a
     * database it holds the lease before its renew deadline on the local monotonic clock.
     */
    public boolean isLeader() {
        ElectionView v = view;
        return !stopped && v.won() != null && v.quorumOk() && (holder == null || holder.holds());
    }

    /** The leader as this node knows it; empty while there is none (or this node lost its lease). */
    public Optional<LeaderInfo> leader() {
        ElectionView v = view;
        if (stopped || !v.quorumOk()) {
            return Optional.empty();
        }
        if (v.won() != null) {
            return isLeader() ? Optional.of(v.won()) : Optional.empty();
        }
        return Optional.ofNullable(v.remote());
    }

    /** Waits until {@link #leader()} is known, at most {@code timeout}. */
    public Optional<LeaderInfo> awaitLeader(Duration timeout) throws InterruptedException {
        return publisher.await(this::leader, timeout);
    }

    /**
     * Tells {@code listener} how long each lease renewal the database answered took, in
     * nanoseconds of the monotonic clock (for metrics); without a database nothing is renewed.
     * One listener; a later call replaces it.
     */
    public void onLeaseRenewLatency(java.util.function.LongConsumer listener) {
        if (holder != null) {
            holder.onRenewLatency(listener);
        }
    }

    /**
     * For {@code /cluster/status}: the leader, its epoch and token, whether this node leads, the
     * quorum, and with a database the lease row as the database reports it (holder, token,
     * remaining milliseconds measured by the database).
     */
    public Map<String, Object> status() {
        Map<String, Object> out = new LinkedHashMap<>();
        Optional<LeaderInfo> leader = leader();
        out.put("leader", leader.map(LeaderInfo::id).orElse(null));
        out.put("epoch", leader.map(LeaderInfo::epoch).orElse(null));
        out.put("fencingToken", leader.map(LeaderInfo::fencingToken).orElse(null));
        out.put("leaderSince", leader.map(l -> l.since().toString()).orElse(null));
        out.put("isLeader", isLeader());
        out.put("mayLead", mayLead);
        out.put("quorum", quorum);
        out.put("standingAside", view.abstaining());  // cannot reach the lease database; another node may lead
        if (store != null) {
            Map<String, Object> lease = new LinkedHashMap<>();
            try {
                Optional<LeaseRow> row = store.read(cluster);
                lease.put("holder", row.flatMap(LeaseRow::holderId).orElse(null));
                lease.put("held", row.map(LeaseRow::held).orElse(false));
                lease.put("epoch", row.map(LeaseRow::epoch).orElse(null));
                lease.put("fencingToken", row.map(LeaseRow::fencingToken).orElse(null));
                lease.put("remainingMillis", row.map(LeaseRow::remainingMillis).orElse(null));
            } catch (SQLException e) {
                lease.put("error", "SQLState " + e.getSQLState());
            }
            out.put("lease", lease);
        }
        return out;
    }

    // ---------------------------------------------------------------- the lease thread

    /** Lease thread, every retryPeriod: the leader renews (a refusal drops the holding at once). */
    private void renewTick() {
        if (stopped) {
            return;
        }
        if (view.won() == null) {
            probeWhileAbstaining();
            return;
        }
        try {
            holder.renew();
            lastLeaseContactNanos = System.nanoTime();
            leaseWarned = false;
        } catch (SQLException e) {
            if (!leaseWarned) {
                LOG.warn("node {}: cannot renew the lease of cluster {} (SQLState {})", self, cluster, e.getSQLState());
                leaseWarned = true;
            }
        }
        run(machine::demotionCheck);
    }

    /** Lease thread: while this node stands aside, a cheap read tells when the database answers again. */
    private void probeWhileAbstaining() {
        if (!view.abstaining()) {
            goodProbes = 0;
            return;
        }
        try {
            store.highestEpoch(cluster);
            lastLeaseContactNanos = System.nanoTime();
            if (++goodProbes >= REJOIN_AFTER_PROBES) {  // a database that flickers must not flip the leader
                run(machine::databaseReachable);
            }
        } catch (SQLException e) {
            goodProbes = 0;  // still unreachable; the abstain was logged once
        }
    }

    /** What the state machine reaches of its node. */
    private final class MachineHost implements BullyMachine.Host {
        @Override
        public CompletableFuture<?> send(String target, ElectionMessage message) {
            return Election.this.send(target, message);
        }

        @Override
        public void publish(ElectionView published, String cause) {
            view = published;
            publisher.publish(leader(), isLeader(), cause);
        }

        @Override
        public boolean stopped() {
            return stopped;
        }

        @Override
        public void leaseContact() {
            lastLeaseContactNanos = System.nanoTime();
        }

        @Override
        public long lastLeaseContactNanos() {
            return lastLeaseContactNanos;
        }
    }

    private CompletableFuture<?> send(String target, ElectionMessage message) {
        try {
            return sender.apply(target, message.encode()).exceptionally(e -> {
                LOG.debug("node {}: {} to {} failed: {}", self, message.kind(), target, e.toString());
                return null;
            });
        } catch (RuntimeException e) {
            LOG.debug("node {}: {} to {} not sent: {}", self, message.kind(), target, e.toString());
            return CompletableFuture.completedFuture(null);
        }
    }

    private void run(Runnable task) {
        try {
            thread.execute(() -> guarded(task));
        } catch (RejectedExecutionException stopped) {
            // closed or halted: nothing to decide any more
        }
    }

    private void guarded(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.warn("node {}: election step failed", self, e);
        }
    }
}
