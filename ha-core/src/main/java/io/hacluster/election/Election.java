package io.hacluster.election;

import io.hacluster.discovery.ConnectionSource;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
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
    /** How long a candidate at least waits before retrying a lease another node holds. */
    private static final long MIN_RETRY_MILLIS = 50;

    private static final Logger LOG = LoggerFactory.getLogger(Election.class);

    /** What isLeader() and leader() read; replaced by the election thread only. */
    private record View(LeaderInfo won, LeaderInfo remote, boolean quorumOk) {
    }

    private final String self;
    private final String cluster;
    /** The wall clock, for {@link LeaderInfo#since()} only: display, never compared with anything. */
    private final Clock wallClock;
    private final boolean mayLead;
    private final int quorum;
    private final LeaseSettings leaseSettings;
    private final LeaseStore store;
    private final LeaseHolder holder;
    private final BiFunction<String, byte[], CompletableFuture<?>> sender;
    private final List<Consumer<LeaderChange>> listeners;
    private final ScheduledThreadPoolExecutor thread;
    private final ExecutorService listenerThread;
    /** Renews the lease, so a statement stuck in the database never stalls the election thread. */
    private final ScheduledThreadPoolExecutor leaseThread;
    private final Object awaitMonitor = new Object();

    private volatile View view = new View(null, null, true);
    private volatile boolean stopped;

    // ---- confined to the election thread
    /** Other live (alive or suspect) members and whether each may lead, sorted by id. */
    private final TreeMap<String, Boolean> live = new TreeMap<>();
    /**
     * Members gossip reported dead or left, until it reports them alive again: a late message from
     * one must not make it leader again in this node's view, since no later event would undo it.
     */
    private final java.util.Set<String> departed = new java.util.HashSet<>();
    /** Leaders that resigned (they leave), out of the election until gossip reports them gone. */
    private final java.util.Set<String> resigned = new java.util.HashSet<>();
    private boolean started;
    private long highestSeen;
    private long candidateEpoch = -1;
    private ScheduledFuture<?> declareTask;
    private ScheduledFuture<?> nudgeTask;
    private LeaderInfo won;
    private LeaderInfo remote;
    /** Why the leader went away, for the log line and listeners of the next leader. */
    private String pendingCause = "start";
    private LeaderChange lastPublished;
    /** Lease thread only. */
    private boolean leaseWarned;

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
        this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
        this.self = Objects.requireNonNull(nodeId, "nodeId");
        this.cluster = Objects.requireNonNull(clusterName, "clusterName");
        this.mayLead = mayLead;
        if (quorum < 0) {
            throw new IllegalArgumentException("quorum must not be negative, got " + quorum);
        }
        this.quorum = quorum;
        this.leaseSettings = Objects.requireNonNull(leaseSettings, "leaseSettings");
        this.sender = Objects.requireNonNull(sender, "sender");
        this.listeners = Objects.requireNonNull(listeners, "listeners");
        this.store = leaseDatabase == null ? null : new LeaseStore(leaseDatabase);
        this.holder = store == null ? null
                : new LeaseHolder(store, clusterName, nodeId, leaseSettings, MonotonicClock.SYSTEM);
        this.thread = new ScheduledThreadPoolExecutor(1, daemon("ha-" + nodeId + "-election"));
        thread.setRemoveOnCancelPolicy(true);
        thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.listenerThread = Executors.newSingleThreadExecutor(daemon("ha-" + nodeId + "-leader-listeners"));
        this.leaseThread = new ScheduledThreadPoolExecutor(1, daemon("ha-" + nodeId + "-lease"));
        leaseThread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
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
        run(() -> highestSeen = Math.max(highestSeen, persisted));
    }

    /** Starts electing (call once the node has joined), and renewing the lease with a database. */
    public void start() {
        run(() -> {
            started = true;
            reevaluate("start");
        });
        if (holder != null) {
            long every = leaseSettings.retryPeriod().toMillis();
            long check = Math.max(10, Math.min(DEMOTION_CHECK.toMillis(), every / 4));
            try {
                leaseThread.scheduleWithFixedDelay(() -> guarded(this::renewTick), every, every, TimeUnit.MILLISECONDS);
                thread.scheduleWithFixedDelay(() -> guarded(this::demotionCheck), check, check, TimeUnit.MILLISECONDS);
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
            List<CompletableFuture<?>> resigns = new ArrayList<>();
            try {
                thread.submit(() -> guarded(() -> {
                    cancelCandidacy();
                    if (won != null) {
                        long epoch = won.epoch();
                        won = null;
                        releaseLease();
                        // before gossip's leave: the survivors elect at once, however gossip spreads the LEFT
                        for (String other : live.keySet()) {
                            resigns.add(send(other, ElectionMessage.resign(epoch)));
                        }
                    }
                    remote = null;
                    publish("close");
                })).get(10, TimeUnit.SECONDS);
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
        listenerThread.shutdown();
        try {
            listenerThread.awaitTermination(5, TimeUnit.SECONDS);
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
        listenerThread.shutdownNow();
    }

    // ---------------------------------------------------------------- inputs (any thread)

    /** A member is alive or suspect (gossip's thread, in order); {@code mayLead} from its meta. */
    public void memberAlive(String id, boolean mayLead) {
        if (id.equals(self)) {
            return;
        }
        run(() -> {
            if (resigned.contains(id)) {
                return;  // it is leaving; gossip has not said so yet
            }
            departed.remove(id);
            Boolean before = live.put(id, mayLead);
            if (before == null && won != null) {
                send(id, ElectionMessage.coordinator(won));  // a joiner learns the leader and epoch
            }
            if (before == null || before != mayLead) {
                reevaluate("join");
            }
        });
    }

    /** A member is dead ({@code left} false) or left gracefully (gossip's thread, in order). */
    public void memberGone(String id, boolean left) {
        if (id.equals(self)) {
            return;
        }
        run(() -> {
            departed.add(id);
            resigned.remove(id);
            if (live.remove(id) == null) {
                return;
            }
            String cause = left ? "leave" : "crash";
            if (remote != null && remote.id().equals(id)) {
                remote = null;
                pendingCause = cause;
            }
            reevaluate(cause);
        });
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
        run(() -> handle(senderId, message));
    }

    // ---------------------------------------------------------------- outputs (any thread)

    /**
     * Whether this node leads now: it won the election, the quorum (if any) holds, and with a
     * database it holds the lease before its renew deadline on the local monotonic clock.
     */
    public boolean isLeader() {
        View v = view;
        return !stopped && v.won() != null && v.quorumOk() && (holder == null || holder.holds());
    }

    /** The leader as this node knows it; empty while there is none (or this node lost its lease). */
    public Optional<LeaderInfo> leader() {
        View v = view;
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
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (awaitMonitor) {
            while (true) {
                Optional<LeaderInfo> leader = leader();
                long left = deadline - System.nanoTime();
                if (leader.isPresent() || left <= 0) {
                    return leader;
                }
                // woken by every publish; the bound covers a self-demotion nobody publishes
                TimeUnit.NANOSECONDS.timedWait(awaitMonitor, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
            }
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

    // ---------------------------------------------------------------- the state machine

    private void handle(String from, ElectionMessage m) {
        if (departed.contains(from)) {
            LOG.debug("node {}: {} from departed {} ignored", self, m.kind(), from);
            return;
        }
        switch (m.kind()) {
            case ELECTION -> onElection(from, m.epoch());
            case ANSWER -> onAnswer(from, m.epoch());
            case COORDINATOR -> onCoordinator(from, m);
            case RESIGN -> onResign(from);
        }
    }

    /** The sender leaves and led: out of the election now (no epoch check: it is about membership). */
    private void onResign(String from) {
        if (live.remove(from) == null) {
            return;
        }
        resigned.add(from);
        if (remote != null && remote.id().equals(from)) {
            remote = null;
            pendingCause = "leave";
        }
        reevaluate("leave");
    }

    private void onElection(String from, long epoch) {
        if (epoch < highestSeen) {
            send(from, ElectionMessage.answer(highestSeen));  // stale: ignored, but tell it what is current
            return;
        }
        highestSeen = epoch;
        boolean lowerThanSender = mayLead && self.compareTo(from) < 0;
        if (lowerThanSender) {
            // the bully ANSWER: a lower id is alive and takes over
            send(from, ElectionMessage.answer(highestSeen));
            if (won != null && epoch > won.epoch()) {
                startElection();  // reassert above the sender's epoch
            } else if (won != null) {
                send(from, ElectionMessage.coordinator(won));  // it did not know the leader
            } else {
                reevaluate("takeover");
            }
        } else {
            String cause = "takeover";
            if (won != null) {
                stepDown("takeover");
            } else if (remote != null && remote.id().equals(from)) {
                // the node this one follows runs again (it lost its lease or quorum): it leads no longer
                remote = null;
                cause = "leader runs again";
                pendingCause = cause;
            }
            cancelCandidacy();
            publish(cause);
        }
    }

    private void onAnswer(String from, long epoch) {
        boolean newer = epoch > highestSeen;
        highestSeen = Math.max(highestSeen, epoch);
        if (candidateEpoch > 0) {
            if (from.compareTo(self) < 0) {
                cancelCandidacy();  // a lower id runs; its COORDINATOR follows
            } else if (epoch > candidateEpoch) {
                cancelCandidacy();
                reevaluate("stale epoch");  // run again above what the others have seen
            }
        } else if (won != null && newer) {
            startElection();  // a leader must hold the highest epoch
        }
    }

    private void onCoordinator(String from, ElectionMessage m) {
        if (m.epoch() < highestSeen
                || (remote != null && m.epoch() == remote.epoch() && m.leaderId().compareTo(remote.id()) > 0)) {
            send(from, ElectionMessage.answer(highestSeen));
            return;
        }
        if (!m.leaderId().equals(from)) {
            LOG.warn("node {}: COORDINATOR from {} names {}; ignored", self, from, m.leaderId());
            return;
        }
        highestSeen = m.epoch();
        LeaderInfo info = new LeaderInfo(from, m.epoch(), m.fencingToken(), Instant.ofEpochMilli(m.sinceMillis()));
        String cause;
        if (won != null) {
            stepDown("takeover");
            cause = "takeover";
        } else if (remote != null && !remote.id().equals(from) && live.containsKey(remote.id())) {
            // the old leader still looks live here: a lower id took over, or a higher one was elected
            // because the others' gossip already declared the old leader dead (this node's lags)
            cause = from.compareTo(remote.id()) < 0 ? "takeover" : "crash";
        } else {
            cause = pendingCause;
        }
        cancelCandidacy();
        remote = info;
        pendingCause = "elected";
        publish(cause);
        if (mayLead && self.compareTo(from) < 0 && self.equals(lowestEligible())) {
            startElection();  // the bully: a lower id takes over
        }
    }

    /** Decide after a change of membership, lease or quorum. */
    private void reevaluate(String cause) {
        if (!started || stopped) {
            return;
        }
        if (!quorumOk()) {
            cancelCandidacy();
            if (won != null || remote != null) {
                pendingCause = "quorum lost";
            }
            if (won != null) {
                stepDown("quorum lost");
            }
            remote = null;  // what this side knew of a leader is stale once it regains the quorum
            publish("quorum lost");
            return;
        }
        if (self.equals(lowestEligible())) {
            if (won == null && candidateEpoch < 0) {
                startElection();
            }
        } else {
            cancelCandidacy();
            scheduleNudge();
        }
        publish(cause);
    }

    /**
     * The bully's second timeout: a node that is not the lowest and knows no leader a while
     * after a change sends ELECTION to the lower eligible ids, which answer and run (or, leading,
     * repeat their COORDINATOR to it). At the highest epoch seen, not above it: asking must not
     * make a candidate's epoch stale.
     */
    private void scheduleNudge() {
        if (nudgeTask != null || won != null || remote != null) {
            return;
        }
        nudgeTask = thread.schedule(() -> guarded(() -> {
            nudgeTask = null;
            if (stopped || won != null || remote != null || !quorumOk() || self.equals(lowestEligible())) {
                return;
            }
            ElectionMessage ask = ElectionMessage.election(highestSeen);
            for (Map.Entry<String, Boolean> e : live.headMap(self).entrySet()) {
                if (e.getValue()) {
                    send(e.getKey(), ask);
                }
            }
            scheduleNudge();
        }), NUDGE_AFTER.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void startElection() {
        if (!started || stopped) {
            return;
        }
        cancelCandidacy();
        long epoch = ++highestSeen;
        candidateEpoch = epoch;
        if (won != null) {
            // reasserting: still the leader, only above a higher epoch; an ELECTION would make
            // the followers drop it until the COORDINATOR
            declareTask = thread.schedule(() -> guarded(() -> declare(epoch)), 0, TimeUnit.MILLISECONDS);
            return;
        }
        ElectionMessage election = ElectionMessage.election(epoch);
        for (String other : live.keySet()) {
            send(other, election);
        }
        long wait = live.isEmpty() ? 0 : ANSWER_TIMEOUT.toMillis();
        declareTask = thread.schedule(() -> guarded(() -> declare(epoch)), wait, TimeUnit.MILLISECONDS);
    }

    /** No lower id answered: take the lease (with a database) and announce. */
    private void declare(long epoch) {
        if (stopped || candidateEpoch != epoch) {
            return;
        }
        if (!quorumOk() || !self.equals(lowestEligible())) {
            cancelCandidacy();
            return;
        }
        long token = 0;
        if (holder != null) {
            AcquireOutcome outcome;
            try {
                outcome = holder.acquire(epoch);
            } catch (SQLException e) {
                LOG.warn("node {}: cannot take the lease of cluster {} (SQLState {}); retrying in {} ms", self,
                        cluster, e.getSQLState(), leaseSettings.retryPeriod().toMillis());
                retryDeclare(epoch, leaseSettings.retryPeriod().toMillis());
                return;
            }
            if (outcome instanceof AcquireOutcome.HeldByOther other) {
                highestSeen = Math.max(highestSeen, other.epoch());
                LOG.info("node {}: waiting for the lease of cluster {}, held by {} for {} ms more", self, cluster,
                        other.holderId(), other.remainingMillis());
                retryDeclare(epoch, Math.max(MIN_RETRY_MILLIS,
                        Math.min(leaseSettings.retryPeriod().toMillis(), other.remainingMillis() + MIN_RETRY_MILLIS)));
                return;
            }
            LeaseGrant grant = ((AcquireOutcome.Granted) outcome).grant();
            token = grant.fencingToken();
            if (grant.epoch() > epoch) {
                highestSeen = Math.max(highestSeen, grant.epoch());
                startElection();  // another candidate presented a higher epoch: run above it
                return;
            }
        }
        candidateEpoch = -1;
        declareTask = null;
        String cause;
        if (won != null) {
            cause = "reasserted";
        } else if (remote != null && live.containsKey(remote.id())) {
            cause = "takeover";
        } else {
            cause = pendingCause;
        }
        Instant since = won != null && won.fencingToken() == token ? won.since()
                : Instant.ofEpochMilli(wallClock.millis());  // millis: what a COORDINATOR carries
        won = new LeaderInfo(self, epoch, token, since);
        remote = null;
        pendingCause = "elected";
        ElectionMessage coordinator = ElectionMessage.coordinator(won);
        for (String other : live.keySet()) {
            send(other, coordinator);
        }
        publish(cause);
    }

    private void retryDeclare(long epoch, long millis) {
        declareTask = thread.schedule(() -> guarded(() -> declare(epoch)), millis, TimeUnit.MILLISECONDS);
    }

    /** Lease thread, every retryPeriod: the leader renews (a refusal drops the holding at once). */
    private void renewTick() {
        if (view.won() == null || stopped) {
            return;
        }
        try {
            holder.renew();
            leaseWarned = false;
        } catch (SQLException e) {
            if (!leaseWarned) {
                LOG.warn("node {}: cannot renew the lease of cluster {} (SQLState {})", self, cluster, e.getSQLState());
                leaseWarned = true;
            }
        }
        run(this::demotionCheck);
    }

    /**
     * Election thread, often: isLeader() turned false by itself at the renew deadline; this makes
     * it a transition (logged, told to listeners) and runs again, which takes the lease back with
     * the same token if the database still has it as ours.
     */
    private void demotionCheck() {
        if (won != null && !stopped && !holder.holds()) {
            won = null;
            pendingCause = "lease lost";
            publish("lease lost");
            reevaluate("lease lost");
        }
    }

    private void stepDown(String cause) {
        won = null;
        releaseLease();
        pendingCause = cause;
    }

    private void releaseLease() {
        if (holder == null) {
            return;
        }
        try {
            holder.release();
        } catch (SQLException e) {
            LOG.warn("node {}: cannot release the lease of cluster {} (SQLState {}); it expires on its own", self,
                    cluster, e.getSQLState());
        }
    }

    private void cancelCandidacy() {
        candidateEpoch = -1;
        if (declareTask != null) {
            declareTask.cancel(false);
            declareTask = null;
        }
    }

    private String lowestEligible() {
        String lowest = mayLead ? self : null;
        for (Map.Entry<String, Boolean> e : live.entrySet()) {  // sorted: the first eligible is the lowest other
            if (e.getValue()) {
                if (lowest == null || e.getKey().compareTo(lowest) < 0) {
                    lowest = e.getKey();
                }
                break;
            }
        }
        return lowest;
    }

    private boolean quorumOk() {
        return quorum <= 1 || live.size() + 1 >= quorum;
    }

    /** Publishes the view; logs and tells listeners once per change of leader or of local leadership. */
    private void publish(String cause) {
        view = new View(won, remote, quorumOk());
        Optional<LeaderInfo> leader = leader();
        boolean local = isLeader();
        LeaderChange last = lastPublished;
        if (last != null && last.leader().equals(leader) && last.local() == local) {
            return;
        }
        if (last == null && leader.isEmpty()) {
            lastPublished = new LeaderChange(leader, local, cause);
            return;  // nothing to report before the first leader
        }
        LeaderChange change = new LeaderChange(leader, local, cause);
        lastPublished = change;
        if (leader.isPresent()) {
            LeaderInfo l = leader.get();
            LOG.info("Cluster {} leader is {}{} (epoch {}, fencing token {}): {}", cluster, l.id(),
                    local ? " (this node)" : "", l.epoch(), l.fencingToken(), cause);
        } else {
            LeaderInfo before = last == null ? null : last.leader().orElse(null);
            LOG.info("Cluster {} has no leader{}: {}", cluster,
                    before == null ? "" : " (was " + before.id() + ", epoch " + before.epoch() + ")", cause);
        }
        List<Consumer<LeaderChange>> targets = new ArrayList<>(listeners);
        try {
            listenerThread.execute(() -> {
                for (Consumer<LeaderChange> l : targets) {
                    try {
                        l.accept(change);
                    } catch (RuntimeException e) {
                        LOG.warn("node {}: a leader listener failed: {}", self, e.toString());
                    }
                }
            });
        } catch (RejectedExecutionException stopping) {
            // closed: nobody listens any more
        }
        synchronized (awaitMonitor) {
            awaitMonitor.notifyAll();
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
