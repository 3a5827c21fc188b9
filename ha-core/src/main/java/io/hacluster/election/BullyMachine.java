package io.hacluster.election;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bully state machine of one node, confined to its election thread: who is live and may
 * lead, the epochs seen, the candidacy, the leader won or followed, and the transitions between
 * them. {@link Election} feeds it membership events and messages on that thread and reads what
 * it publishes ({@link ElectionView}); see docs/election.md for the protocol.
 */
final class BullyMachine {

    private static final Logger LOG = LoggerFactory.getLogger(Election.class);
    /** How long a candidate at least waits before retrying a lease another node holds. */
    private static final long MIN_RETRY_MILLIS = 50;

    /** What the machine needs from its node. */
    interface Host {
        /** Sends one election message reliably; completes once handled; never throws. */
        CompletableFuture<?> send(String target, ElectionMessage message);

        /** Publishes the view (the election thread calls it after every decision). */
        void publish(ElectionView view, String cause);

        /** Whether the election stopped (closed or halted). */
        boolean stopped();

        /** Records that a lease statement reached the database now. */
        void leaseContact();

        /** Monotonic nanos of the last lease statement that reached the database. */
        long lastLeaseContactNanos();
    }

    private final String self;
    private final String cluster;
    private final boolean mayLead;
    private final int quorum;
    private final LeaseSettings leaseSettings;
    private final LeaseHolder holder;
    private final Clock wallClock;
    private final ScheduledThreadPoolExecutor thread;
    private final Host host;

    /** Other live (alive or suspect) members and whether each may lead, sorted by id. */
    private final TreeMap<String, Boolean> live = new TreeMap<>();
    /**
     * Members gossip reported dead or left, until it reports them alive again: a late message from
     * one must not make it leader again in this node's view, since no later event would undo it.
     */
    private final java.util.Set<String> departed = new java.util.HashSet<>();
    /** Leaders that resigned (they leave), out of the election until gossip reports them gone. */
    private final java.util.Set<String> resigned = new java.util.HashSet<>();
    /** Members that cannot reach the lease database: out of the election until they run again. */
    private final java.util.Set<String> abstained = new java.util.HashSet<>();
    /** This node cannot reach the lease database: it stands aside (see {@link #abstain}). */
    private boolean abstaining;
    private boolean started;
    private long highestSeen;
    private long candidateEpoch = -1;
    private ScheduledFuture<?> declareTask;
    private ScheduledFuture<?> nudgeTask;
    private LeaderInfo won;
    private LeaderInfo remote;
    /** Why the leader went away, for the log line and listeners of the next leader. */
    private String pendingCause = "start";

    BullyMachine(String self, String cluster, boolean mayLead, int quorum, LeaseSettings leaseSettings,
                 LeaseHolder holder, Clock wallClock, ScheduledThreadPoolExecutor thread, Host host) {
        this.self = self;
        this.cluster = cluster;
        this.mayLead = mayLead;
        this.quorum = quorum;
        this.leaseSettings = leaseSettings;
        this.holder = holder;
        this.wallClock = wallClock;
        this.thread = thread;
        this.host = host;
    }

    // ---------------------------------------------------------------- inputs (election thread)

    /** Before the start: the highest epoch the lease row kept. */
    void persistedEpoch(long persisted) {
        highestSeen = Math.max(highestSeen, persisted);
    }

    void start() {
        started = true;
        reevaluate("start");
    }

    /** A member is alive or suspect, in gossip's order; {@code mayLead} from its meta. */
    void memberAlive(String id, boolean mayLead) {
        if (resigned.contains(id)) {
            return;  // it is leaving; gossip has not said so yet
        }
        departed.remove(id);
        Boolean before = live.put(id, mayLead);
        if (before == null && won != null) {
            send(id, ElectionMessage.coordinator(won));  // a joiner learns the leader and epoch
        }
        if (before == null && abstaining) {
            send(id, ElectionMessage.abstain(highestSeen));  // and that this node stands aside
        }
        if (before == null || before != mayLead) {
            reevaluate("join");
        }
    }

    /** A member is dead ({@code left} false) or left gracefully, in gossip's order. */
    void memberGone(String id, boolean left) {
        departed.add(id);
        resigned.remove(id);
        abstained.remove(id);
        if (live.remove(id) == null) {
            return;
        }
        String cause = left ? "leave" : "crash";
        if (remote != null && remote.id().equals(id)) {
            remote = null;
            pendingCause = cause;
        }
        reevaluate(cause);
    }

    /**
     * Closing: this node leads no longer, releases the lease and tells every live member with
     * RESIGN, so the survivors elect at once however gossip spreads the LEFT. Returns the sends.
     */
    List<CompletableFuture<?>> resign() {
        List<CompletableFuture<?>> resigns = new java.util.ArrayList<>();
        standDown();
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
        return resigns;
    }

    /** The lease database answers again (the lease thread's probe): run again if this node stood aside. */
    void databaseReachable() {
        rejoin();
    }

    // ---------------------------------------------------------------- the state machine

    void handle(String from, ElectionMessage m) {
        if (departed.contains(from)) {
            LOG.debug("node {}: {} from departed {} ignored", self, m.kind(), from);
            return;
        }
        if ((m.kind() == ElectionMessage.Kind.ELECTION || m.kind() == ElectionMessage.Kind.COORDINATOR)
                && abstained.remove(from)) {
            LOG.info("node {}: {} runs again (it reaches the lease database)", self, from);
        }
        switch (m.kind()) {
            case ELECTION -> onElection(from, m.epoch());
            case ANSWER -> onAnswer(from, m.epoch());
            case COORDINATOR -> onCoordinator(from, m);
            case RESIGN -> onResign(from);
            case ABSTAIN -> onAbstain(from);
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

    /** The sender cannot reach the lease database: out of the election until it runs again. */
    private void onAbstain(String from) {
        if (!live.containsKey(from) || !abstained.add(from)) {
            return;
        }
        LOG.info("node {}: {} stands aside: it cannot reach the lease database", self, from);
        if (remote != null && remote.id().equals(from)) {
            remote = null;
            pendingCause = "lease lost";
        }
        reevaluate("lease lost");
    }

    private void onElection(String from, long epoch) {
        if (epoch < highestSeen) {
            send(from, ElectionMessage.answer(highestSeen));  // stale: ignored, but tell it what is current
            return;
        }
        highestSeen = epoch;
        boolean lowerThanSender = mayLead && !abstaining && self.compareTo(from) < 0;
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
            standDown();
            publish(cause);
        }
    }

    private void onAnswer(String from, long epoch) {
        boolean newer = epoch > highestSeen;
        highestSeen = Math.max(highestSeen, epoch);
        if (candidateEpoch > 0) {
            boolean lowerEligible = from.compareTo(self) < 0 && Boolean.TRUE.equals(live.get(from))
                    && !abstained.contains(from);
            if (lowerEligible) {
                standDown();  // a lower id runs; its COORDINATOR follows
            } else if (epoch > candidateEpoch) {
                // a stale-epoch answer, also from a lower id that cannot lead (it never runs, so
                // taking its answer for the bully's would leave the cluster without a leader)
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
        standDown();
        remote = info;
        pendingCause = "elected";
        publish(cause);
        if (mayLead && self.compareTo(from) < 0 && self.equals(lowestEligible())) {
            startElection();  // the bully: a lower id takes over
        }
    }

    /** Decide after a change of membership, lease or quorum. */
    private void reevaluate(String cause) {
        if (!started || host.stopped()) {
            return;
        }
        if (!quorumOk()) {
            standDown();
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
            standDown();
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
            if (host.stopped() || won != null || remote != null || !quorumOk() || self.equals(lowestEligible())) {
                return;
            }
            ElectionMessage ask = ElectionMessage.election(highestSeen);
            for (Map.Entry<String, Boolean> e : live.headMap(self).entrySet()) {
                if (e.getValue()) {
                    send(e.getKey(), ask);
                }
            }
            scheduleNudge();
        }), Election.NUDGE_AFTER.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void startElection() {
        if (!started || host.stopped()) {
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
        long wait = live.isEmpty() ? 0 : Election.ANSWER_TIMEOUT.toMillis();
        declareTask = thread.schedule(() -> guarded(() -> declare(epoch)), wait, TimeUnit.MILLISECONDS);
    }

    /** No lower id answered: take the lease (with a database) and announce. */
    private void declare(long epoch) {
        if (host.stopped() || candidateEpoch != epoch) {
            return;
        }
        if (!quorumOk() || !self.equals(lowestEligible())) {
            standDown();
            return;
        }
        long token = 0;
        if (holder != null) {
            AcquireOutcome outcome;
            try {
                outcome = holder.acquire(epoch);
                host.leaseContact();
            } catch (SQLException e) {
                long silentMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - host.lastLeaseContactNanos());
                if (silentMillis >= leaseSettings.renewDeadline().toMillis()) {
                    abstain(e, silentMillis);
                    return;
                }
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

    /**
     * The lowest id that may lead cannot reach the lease database (for the renew deadline, the
     * time a holder would give the lease up): it stands aside, so the next lowest id that can
     * reach it leads instead of the cluster staying leaderless. The lease thread probes the
     * database meanwhile; once it answers, this node runs again and, being lower, takes over.
     */
    private void abstain(SQLException cause, long silentMillis) {
        standDown();
        abstaining = true;
        if (won != null) {
            won = null;  // a reassertion that cannot reach the database: the holding is past its deadline anyway
            pendingCause = "lease lost";
        }
        LOG.warn("node {}: no lease statement has reached the database for {} ms (SQLState {}); standing aside so "
                + "another node can lead", self, silentMillis, cause.getSQLState());
        for (String other : live.keySet()) {
            send(other, ElectionMessage.abstain(highestSeen));
        }
        reevaluate("lease lost");
    }

    /** Election thread: the lease database answers again. */
    private void rejoin() {
        if (!abstaining) {
            return;
        }
        abstaining = false;
        LOG.info("node {}: the lease database answers again; running for leader", self);
        reevaluate("database reachable");
    }

    private void retryDeclare(long epoch, long millis) {
        declareTask = thread.schedule(() -> guarded(() -> declare(epoch)), millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Election thread, often: isLeader() turned false by itself at the renew deadline; this makes
     * it a transition (logged, told to listeners) and runs again, which takes the lease back with
     * the same token if the database still has it as ours.
     */
    void demotionCheck() {
        if (won != null && !host.stopped() && !holder.holds()) {
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

    /**
     * Another node runs or leads: cancel this node's candidacy and give back a lease it took
     * without declaring (granted at a higher epoch than it ran at, so it was running again), so
     * the winner need not wait for that lease to expire.
     */
    private void standDown() {
        cancelCandidacy();
        if (won == null && holder != null && holder.holds()) {
            releaseLease();
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
        String lowest = mayLead && !abstaining ? self : null;
        for (Map.Entry<String, Boolean> e : live.entrySet()) {  // sorted: the first eligible is the lowest other
            if (e.getValue() && !abstained.contains(e.getKey())) {
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
        host.publish(new ElectionView(won, remote, quorumOk(), abstaining), cause);
    }

    private CompletableFuture<?> send(String target, ElectionMessage message) {
        return host.send(target, message);
    }

    private void guarded(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.warn("node {}: election step failed", self, e);
        }
    }
}
