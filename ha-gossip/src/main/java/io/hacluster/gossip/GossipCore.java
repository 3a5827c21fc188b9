package io.hacluster.gossip;

import io.hacluster.gossip.wire.MalformedMessageException;
import io.hacluster.gossip.wire.Message;
import io.hacluster.gossip.wire.PushNodeState;
import io.hacluster.gossip.wire.PushPull;
import io.hacluster.gossip.wire.UnwrappedPacket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The SWIM + Lifeguard state machine, following hashicorp/memberlist's {@code state.go} and
 * {@code net.go} step for step. Every method that touches node state runs on the
 * {@link Scheduler}'s single thread; the {@link Transport.Inbound} callbacks, which arrive on I/O
 * threads, only count and hand off. Nothing here blocks.
 */
final class GossipCore implements Transport.Inbound {

    private static final Logger log = LoggerFactory.getLogger(GossipCore.class);

    /** memberlist's compoundHeaderOverhead and compoundOverhead. */
    static final int COMPOUND_HEADER_OVERHEAD = 2;
    static final int COMPOUND_OVERHEAD = 2;
    /** memberlist's maxPushPullRequests: concurrent inbound push/pull streams. */
    static final int MAX_PUSH_PULL_REQUESTS = 128;
    private static final int MAX_COMPOUND_PARTS = 255;
    private static final byte[] EMPTY = new byte[0];

    private final GossipConfig config;
    private final String name;
    private final Transport transport;
    private final Scheduler scheduler;
    private final WireCodec codec;
    private final Random random;
    private final Listeners listeners;
    private final Awareness awareness;
    private final BroadcastQueue broadcasts;
    private final CrashProbes crashProbes;

    // ---- state-machine thread only ----
    private final Map<String, NodeState> nodeMap = new HashMap<>();
    private final List<NodeState> nodes = new ArrayList<>();
    private final Map<String, Suspicion> nodeTimers = new HashMap<>();
    private final Map<Integer, AckHandler> ackHandlers = new HashMap<>();
    private final List<Scheduler.Cancellable> tickers = new ArrayList<>();
    private int probeIndex;
    private int seqNo;
    private long incarnation;
    private Probe probe;
    private Scheduler.Cancellable pushPullTimer;
    /** Failed (not left) nodes to retry, oldest first: name -> address and time of failure. */
    private final Map<String, FailedNode> failed = new java.util.LinkedHashMap<>();
    private static final int MAX_FAILED_TRACKED = 1024;

    private record FailedNode(InetSocketAddress address, long sinceNanos) {
    }
    private boolean pendingProbeTick;
    private boolean leaving;
    private volatile boolean shutdown;
    private byte[] selfAddr;
    private int selfPort;

    // ---- read from any thread ----
    private final ConcurrentHashMap<String, Member> view = new ConcurrentHashMap<>();
    /** Inbound messages waiting for the state machine, per handoff class (see onPacket). */
    private final AtomicInteger pendingProbeMessages = new AtomicInteger();
    private final AtomicInteger pendingAliveMessages = new AtomicInteger();
    private final AtomicInteger pendingOtherMessages = new AtomicInteger();
    private final AtomicInteger pendingPushPulls = new AtomicInteger();
    private final AtomicLong packetsReceived = new AtomicLong();
    private final AtomicLong packetsSent = new AtomicLong();
    private final AtomicLong streamsReceived = new AtomicLong();
    private final AtomicLong streamsSent = new AtomicLong();
    private final AtomicLong malformedDropped = new AtomicLong();
    private final AtomicLong labelDropped = new AtomicLong();
    private final AtomicLong rejectedDropped = new AtomicLong();
    private final AtomicLong overloadDropped = new AtomicLong();
    private final AtomicLong probes = new AtomicLong();
    private final AtomicLong probesFailed = new AtomicLong();
    private final AtomicLong suspicions = new AtomicLong();
    private final AtomicLong refutations = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong encryptionDropped = new AtomicLong();
    private final AtomicLong membersRefused = new AtomicLong();
    /** Warnings a peer can trigger at will: at most one line per kind every 10 s. */
    private final WarnLimiter warnings = new WarnLimiter(log, Duration.ofSeconds(10));
    /** Cap and rate for nodes new to the table (state-machine thread only). */
    private final MemberAdmission admission;

    /** The application callbacks; any may be null. */
    record Listeners(MembershipListener membership, MessageListener messages, MetadataProvider metadata,
                     StateDelegate state, AliveFilter aliveFilter, ConflictListener conflicts) {
    }

    GossipCore(GossipConfig config, Transport transport, Scheduler scheduler, WireCodec codec, Random random,
               Listeners listeners) {
        this.config = config;
        this.name = config.name();
        this.transport = transport;
        this.scheduler = scheduler;
        this.codec = codec;
        this.random = random;
        this.listeners = listeners;
        this.awareness = new Awareness(config.awarenessMaxMultiplier());
        this.broadcasts = new BroadcastQueue(config.retransmitMult(), nodes::size);
        this.crashProbes = new CrashProbes(this, config, scheduler, transport);
        this.admission = new MemberAdmission(config.maxMembers(), config.memberAdmissionsPerSecond());
    }

    // =====================================================================================
    // Lifecycle
    // =====================================================================================

    /**
     * Makes {@link #member} return the local node before the state machine has run
     * {@link #start}; called once on the creating thread. {@link #start} replaces the entry.
     */
    void prepublishLocal(byte[] meta) {
        InetSocketAddress adv = transport.advertiseAddress();
        byte[] v = localVersions();
        view.put(name, new Member(name, adv, meta, MemberState.ALIVE, 1, v[0], v[1], v[2], v[3], v[4], v[5]));
    }

    /** Marks the local node alive and starts the probe, gossip and push/pull tickers. State-machine thread. */
    void start(byte[] meta) {
        InetSocketAddress adv = transport.advertiseAddress();
        selfAddr = adv.getAddress().getAddress();
        selfPort = adv.getPort();
        Message.Alive a = new Message.Alive((int) nextIncarnation(), name, selfAddr, selfPort, meta, localVersions());
        aliveNode(a, null, true);
        startTicker(config.probeInterval(), this::probeTick);
        if (config.gossipNodes() > 0) {
            startTicker(config.gossipInterval(), this::gossip);
        }
        long stagger = (long) (random.nextDouble() * config.pushPullInterval().toNanos());
        pushPullTimer = scheduler.schedule(Duration.ofNanos(stagger), this::pushPullTick);
        if (!config.reconnectInterval().isZero()) {
            startTicker(config.reconnectInterval(), this::reconnect);
        }
    }

    /**
     * serf's reconnect: with probability failed/alive, push/pull with one random failed node.
     * Without it, the two sides of a partition that outlasted failure detection never merge,
     * because memberlist only probes and syncs with nodes it believes alive.
     */
    private void reconnect() {
        long now = scheduler.nanoTime();
        failed.values().removeIf(f -> now - f.sinceNanos > config.reconnectTimeout().toNanos());
        if (failed.isEmpty()) {
            return;
        }
        int alive = numLiveMembersLocal();
        double prob = (double) failed.size() / Math.max(1, alive);
        if (random.nextDouble() > prob) {
            return;
        }
        List<Map.Entry<String, FailedNode>> entries = new ArrayList<>(failed.entrySet());
        Map.Entry<String, FailedNode> pick = entries.get(random.nextInt(entries.size()));
        log.debug("{}: attempting reconnect to failed node {}", name, pick.getKey());
        pushPullNode(pick.getValue().address(), true).exceptionally(e -> null);
    }

    private int numLiveMembersLocal() {
        int n = 0;
        for (NodeState s : nodes) {
            if (!s.isGone()) {
                n++;
            }
        }
        return n;
    }

    /** memberlist's triggerFunc: a random stagger, then a fixed-rate ticker. */
    private void startTicker(Duration interval, Runnable task) {
        long stagger = (long) (random.nextDouble() * interval.toNanos());
        tickers.add(new Ticker(scheduler.nanoTime() + stagger, interval.toNanos(), task));
    }

    /** A fixed-rate task that reschedules itself until cancelled. */
    private final class Ticker implements Scheduler.Cancellable {
        private final long period;
        private final Runnable task;
        private long next;
        private Scheduler.Cancellable pending;
        private boolean cancelled;

        Ticker(long first, long period, Runnable task) {
            this.period = period;
            this.task = task;
            this.next = first;
            arm();
        }

        private void arm() {
            pending = scheduler.schedule(Duration.ofNanos(Math.max(0, next - scheduler.nanoTime())), this::tick);
        }

        private void tick() {
            if (cancelled || shutdown) {
                return;
            }
            next += period;
            arm();
            task.run();
        }

        @Override
        public void cancel() {
            cancelled = true;
            pending.cancel();
        }
    }

    /** Stops every timer; nothing is sent afterwards. State-machine thread. */
    void stop() {
        shutdown = true;
        tickers.forEach(Scheduler.Cancellable::cancel);
        tickers.clear();
        if (pushPullTimer != null) {
            pushPullTimer.cancel();
        }
        nodeTimers.values().forEach(Suspicion::cancel);
        nodeTimers.clear();
        ackHandlers.values().forEach(h -> h.timer.cancel());
        ackHandlers.clear();
        broadcasts.clear();
    }

    boolean isShutdown() {
        return shutdown;
    }

    private byte[] localVersions() {
        return new byte[] {
                (byte) GossipConfig.PROTOCOL_VERSION_MIN, (byte) GossipConfig.PROTOCOL_VERSION_MAX,
                (byte) config.protocolVersion(), (byte) config.delegateProtocolMin(),
                (byte) config.delegateProtocolMax(), (byte) config.delegateProtocolVersion()};
    }

    private long nextIncarnation() {
        incarnation = (incarnation + 1) & 0xFFFF_FFFFL;
        return incarnation;
    }


    private int nextSeqNo() {
        return ++seqNo;
    }

    // =====================================================================================
    // Views for other threads
    // =====================================================================================

    List<Member> members() {
        return List.copyOf(view.values());
    }

    Member member(String nodeName) {
        return view.get(nodeName);
    }

    int numLiveMembers() {
        int n = 0;
        for (Member m : view.values()) {
            if (m.isLive()) {
                n++;
            }
        }
        return n;
    }

    int healthScore() {
        return awareness.score();
    }

    GossipStats stats() {
        return new GossipStats(packetsReceived.get(), packetsSent.get(), streamsReceived.get(), streamsSent.get(),
                malformedDropped.get(), labelDropped.get(), rejectedDropped.get(), overloadDropped.get(),
                probes.get(), probesFailed.get(), suspicions.get(), refutations.get(), bytesReceived.get(),
                bytesSent.get(), encryptionDropped.get(), membersRefused.get(),
                crashProbes.deaths(), crashProbes.aborts());
    }

    /** State-machine thread: messages waiting in the broadcast queue. */
    int queuedBroadcasts() {
        return broadcasts.size();
    }

    /**
     * Makes {@code s} visible to other threads, after telling the membership listener what
     * changed since {@code oldState} / {@code oldMeta}: listeners always learn a state before
     * {@link #members()} shows it (see {@link MembershipListener}).
     */
    private void publish(NodeState s, MemberState oldState, byte[] oldMeta, InetSocketAddress oldAddress) {
        Member now = s.toMember();
        boolean wasLive = oldState == MemberState.ALIVE || oldState == MemberState.SUSPECT;
        if (!wasLive && now.isLive()) {
            notifyMembership(MembershipListener::onJoin, now);
        } else if (wasLive && !now.isLive()) {
            notifyMembership(MembershipListener::onLeave, now);
        } else if (oldState == MemberState.ALIVE && now.state() == MemberState.SUSPECT) {
            notifyMembership(MembershipListener::onSuspect, now);
        } else if (oldState == MemberState.SUSPECT && now.state() == MemberState.ALIVE) {
            notifyMembership(MembershipListener::onRecover, now);
        } else if (now.isLive() && (!Arrays.equals(oldMeta, s.meta) || !Objects.equals(oldAddress, now.address()))) {
            notifyMembership(MembershipListener::onUpdate, now);
        }
        view.put(s.name, now);
    }

    // =====================================================================================
    // Probing (memberlist probe / probeNode)
    // =====================================================================================

    private void probeTick() {
        if (probe != null) {
            pendingProbeTick = true; // Go's ticker keeps one tick while the probe runs
            return;
        }
        probe();
    }

    private void probe() {
        int numCheck = 0;
        while (true) {
            if (numCheck >= nodes.size()) {
                return;
            }
            if (probeIndex >= nodes.size()) {
                resetNodes();
                probeIndex = 0;
                numCheck++;
                continue;
            }
            NodeState node = nodes.get(probeIndex);
            probeIndex++;
            if (node.name.equals(name) || node.isGone()) {
                numCheck++;
                continue;
            }
            probeNode(node);
            return;
        }
    }

    /** Drops dead nodes older than GossipToTheDeadTime and reshuffles (memberlist resetNodes). */
    private void resetNodes() {
        long now = scheduler.nanoTime();
        long keepDead = config.gossipToTheDeadTime().toNanos();
        List<NodeState> kept = new ArrayList<>(nodes.size());
        for (NodeState n : nodes) {
            if (n.isGone() && now - n.stateChangeNanos > keepDead) {
                nodeMap.remove(n.name);
                notifyMembership(MembershipListener::onForget, n);  // before the view drops it
                view.remove(n.name);
                Suspicion s = nodeTimers.remove(n.name);
                if (s != null) {
                    s.cancel();
                }
            } else {
                kept.add(n);
            }
        }
        nodes.clear();
        nodes.addAll(kept);
        Collections.shuffle(nodes, random);
    }

    /** One probe of one node. */
    private final class Probe {
        final String target;
        final long targetIncarnation;
        final int seq;
        int expectedNacks;
        int nacks;
        boolean done;
        boolean expired;
        boolean tcpPending;
        boolean tcpContact;

        Probe(String target, long targetIncarnation, int seq) {
            this.target = target;
            this.targetIncarnation = targetIncarnation;
            this.seq = seq;
        }
    }

    private void probeNode(NodeState node) {
        Duration probeInterval = awareness.scaleTimeout(config.probeInterval());
        long deadline = scheduler.nanoTime() + probeInterval.toNanos();
        Probe p = new Probe(node.name, node.incarnation, nextSeqNo());
        probe = p;
        probes.incrementAndGet();
        Message.Ping ping = new Message.Ping(p.seq, node.name, selfAddr, selfPort, name);
        setAckHandler(p.seq, payload -> probeSucceeded(p), () -> p.nacks++, probeInterval, () -> probeExpired(p));
        InetSocketAddress addr = node.socketAddress();
        if (node.state == MemberState.ALIVE) {
            sendMsg(addr, node, codec.encode(ping));
        } else {
            // Lifeguard's buddy system: tell a suspect it is suspected so it can refute at once.
            Message.Suspect s = new Message.Suspect((int) node.incarnation, node.name, name);
            rawSend(addr, node, codec.compound(List.of(codec.encode(ping), codec.encode(s))));
        }
        scheduler.schedule(config.probeTimeout(), () -> probeIndirect(p, ping, deadline));
    }

    private void probeIndirect(Probe p, Message.Ping ping, long deadlineNanos) {
        if (p.done || shutdown) {
            return;
        }
        NodeState node = nodeMap.get(p.target);
        if (node == null) {
            return; // reaped meanwhile; the ack handler's timeout ends the probe
        }
        List<NodeState> peers = kRandomNodes(config.indirectChecks(),
                n -> n.name.equals(name) || n.name.equals(p.target) || n.state != MemberState.ALIVE);
        for (NodeState peer : peers) {
            boolean nack = peer.pMax >= 4;
            if (nack) {
                p.expectedNacks++;
            }
            Message.IndirectPing ind = new Message.IndirectPing(p.seq, node.addr, node.port, node.name, nack,
                    selfAddr, selfPort, name);
            sendMsg(peer.socketAddress(), peer, codec.encode(ind));
        }
        if (!config.disableTcpPings() && node.pMax >= 3 && node.socketAddress() != null) {
            p.tcpPending = true;
            long left = Math.max(1, deadlineNanos - scheduler.nanoTime());
            byte[] req = codec.stream(ping);
            exchange(node.socketAddress(), req, true, Duration.ofNanos(left)).whenComplete((reply, err) ->
                    scheduler.execute(() -> {
                        p.tcpPending = false;
                        p.tcpContact = err == null && isAckFor(reply, p.seq);
                        if (p.expired) {
                            probeConclude(p);
                        }
                    }));
        }
    }

    private boolean isAckFor(byte[] reply, int seq) {
        if (reply == null) {
            return false;
        }
        try {
            return codec.decodeStream(reply) instanceof Message.Ack ack && ack.seqNo() == seq;
        } catch (MalformedMessageException e) {
            countMalformed(e, "TCP ping reply", "a probed node");
            return false;
        }
    }

    private void probeSucceeded(Probe p) {
        if (p.done) {
            return;
        }
        p.done = true;
        awareness.applyDelta(-1);
        probeFinished(p);
    }

    private void probeExpired(Probe p) {
        p.expired = true;
        if (!p.done && !p.tcpPending) {
            probeConclude(p);
        }
    }

    private void probeConclude(Probe p) {
        if (p.done) {
            return;
        }
        p.done = true;
        if (p.tcpContact) {
            warnings.warn("tcp-only", name + ": reached " + PeerText.escape(p.target)
                    + " over TCP but UDP probes failed, network may be misconfigured");
            awareness.applyDelta(-1);
            probeFinished(p);
            return;
        }
        int delta;
        if (p.expectedNacks > 0) {
            delta = Math.max(0, p.expectedNacks - p.nacks);
        } else {
            delta = 1;
        }
        awareness.applyDelta(delta);
        probesFailed.incrementAndGet();
        log.debug("{}: suspect {} has failed, no acks received", name, p.target);
        suspectNode(new Message.Suspect((int) p.targetIncarnation, p.target, name));
        probeFinished(p);
    }

    private void probeFinished(Probe p) {
        AckHandler h = ackHandlers.remove(p.seq);
        if (h != null) {
            h.timer.cancel();
        }
        if (probe == p) {
            probe = null;
            if (pendingProbeTick && !shutdown) {
                pendingProbeTick = false;
                probe();
            }
        }
    }

    // =====================================================================================
    // Ack handlers
    // =====================================================================================

    private static final class AckHandler {
        final Consumer<byte[]> onAck;
        final Runnable onNack;
        Scheduler.Cancellable timer;

        AckHandler(Consumer<byte[]> onAck, Runnable onNack) {
            this.onAck = onAck;
            this.onNack = onNack;
        }
    }

    private void setAckHandler(int seq, Consumer<byte[]> onAck, Runnable onNack, Duration timeout, Runnable onTimeout) {
        AckHandler h = new AckHandler(onAck, onNack);
        AckHandler old = ackHandlers.put(seq, h);
        if (old != null) {
            old.timer.cancel();
        }
        h.timer = scheduler.schedule(timeout, () -> {
            if (ackHandlers.remove(seq, h)) {
                onTimeout.run();
            }
        });
    }

    private void invokeAck(Message.Ack ack) {
        AckHandler h = ackHandlers.remove(ack.seqNo());
        if (h == null) {
            return; // late or unsolicited: harmless
        }
        h.timer.cancel();
        h.onAck.accept(ack.payload());
    }

    private void invokeNack(Message.Nack nack) {
        AckHandler h = ackHandlers.get(nack.seqNo());
        if (h != null && h.onNack != null) {
            h.onNack.run();
        }
    }

    // =====================================================================================
    // Gossip and push/pull
    // =====================================================================================

    private void gossip() {
        long now = scheduler.nanoTime();
        long deadWindow = config.gossipToTheDeadTime().toNanos();
        List<NodeState> targets = kRandomNodes(config.gossipNodes(), n -> {
            if (n.name.equals(name)) {
                return true;
            }
            return switch (n.state) {
                case ALIVE, SUSPECT -> false;
                case DEAD -> now - n.stateChangeNanos > deadWindow;
                case LEFT -> true;
            };
        });
        int bytesAvail = config.udpBufferSize() - COMPOUND_HEADER_OVERHEAD - codec.packetOverhead();
        for (NodeState node : targets) {
            List<byte[]> msgs = broadcasts.take(COMPOUND_OVERHEAD, bytesAvail);
            if (msgs.isEmpty()) {
                return;
            }
            if (msgs.size() == 1) {
                rawSend(node.socketAddress(), node, msgs.get(0));
            } else {
                for (int i = 0; i < msgs.size(); i += MAX_COMPOUND_PARTS) {
                    List<byte[]> part = msgs.subList(i, Math.min(msgs.size(), i + MAX_COMPOUND_PARTS));
                    rawSend(node.socketAddress(), node, codec.compound(part));
                }
            }
        }
    }

    private void pushPullTick() {
        if (shutdown) {
            return;
        }
        Duration next = GossipMath.pushPullScale(config.pushPullInterval(), nodes.size());
        pushPullTimer = scheduler.schedule(next, this::pushPullTick);
        List<NodeState> peer = kRandomNodes(1, n -> n.name.equals(name) || n.state != MemberState.ALIVE);
        if (!peer.isEmpty()) {
            NodeState n = peer.get(0);
            pushPullNode(n.socketAddress(), false).exceptionally(e -> {
                log.debug("{}: push/pull with {} failed: {}", name, n.name, e.toString());
                return null;
            });
        }
    }

    /** Exchanges full state with {@code addr}; completes on the state-machine thread. */
    CompletableFuture<Void> pushPullNode(InetSocketAddress addr, boolean join) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        byte[] req = localStateStream(join);
        exchange(addr, req, true, config.tcpTimeout()).whenComplete((reply, err) -> scheduler.execute(() -> {
            if (err != null) {
                result.completeExceptionally(new GossipException("push/pull with " + addr + " failed", err));
                return;
            }
            try {
                Object m = codec.decodeStream(reply);
                if (!(m instanceof PushPull pp)) {
                    rejectedDropped.incrementAndGet();
                    result.completeExceptionally(new GossipException("push/pull with " + addr
                            + ": peer answered with " + describe(m)));
                    return;
                }
                mergeRemoteState(join, pp);
                result.complete(null);
            } catch (MalformedMessageException e) {
                countMalformed(e, "push/pull reply", addr);
                result.completeExceptionally(new GossipException("push/pull with " + addr + ": " + e.getMessage()));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }));
        return result;
    }

    private static String describe(Object m) {
        if (m instanceof Message.Err err) {
            return "error '" + err.error() + "'";
        }
        return m instanceof Message msg ? msg.type().toString() : String.valueOf(m);
    }

    private byte[] localStateStream(boolean join) {
        List<PushNodeState> states = new ArrayList<>(nodes.size());
        for (NodeState n : nodes) {
            states.add(new PushNodeState(n.name, n.addr, n.port, n.meta, (int) n.incarnation, n.state.code(),
                    n.hasVersions() ? n.versions() : EMPTY)); // unknown: none, as the alive had
        }
        byte[] user = EMPTY;
        if (listeners.state() != null) {
            try {
                byte[] s = listeners.state().localState(join);
                user = s == null ? EMPTY : s;
            } catch (RuntimeException e) {
                log.warn("{}: StateDelegate.localState failed; sending no user state", name, e);
            }
        }
        return codec.pushPullStream(new PushPull(join, states, user));
    }

    private void mergeRemoteState(boolean join, PushPull pp) {
        String incompatible = verifyProtocol(pp.nodes());
        if (incompatible != null) {
            rejectedDropped.incrementAndGet();
            throw new GossipException("protocol versions incompatible: " + incompatible);
        }
        mergeState(pp.nodes());
        if (pp.userState() != null && pp.userState().length > 0 && listeners.state() != null) {
            try {
                listeners.state().mergeRemoteState(pp.userState(), join);
            } catch (RuntimeException e) {
                log.warn("{}: StateDelegate.mergeRemoteState failed", name, e);
            }
        }
    }

    /**
     * memberlist's verifyProtocol: every alive node's current protocol and delegate versions must
     * lie within the intersection of all alive nodes' ranges, local and remote. Returns null when
     * compatible, else a description.
     */
    private String verifyProtocol(List<PushNodeState> remote) {
        int maxPMin = 0, minPMax = 255, maxDMin = 0, minDMax = 255;
        for (PushNodeState r : remote) {
            byte[] v = r.vsn();
            if (r.state() != MemberState.ALIVE.code() || v == null || v.length < 6 || v[1] == 0) {
                continue; // no versions (a peer may send six zeros for unknown ones)
            }
            maxPMin = Math.max(maxPMin, v[0] & 0xFF);
            minPMax = Math.min(minPMax, v[1] & 0xFF);
            maxDMin = Math.max(maxDMin, v[3] & 0xFF);
            minDMax = Math.min(minDMax, v[4] & 0xFF);
        }
        for (NodeState n : nodes) {
            // A node whose alive carried no full version vector has none to check (as the remote
            // states without one above): counted as 0..0 it would fail every later join.
            if (n.state != MemberState.ALIVE || !n.hasVersions()) {
                continue;
            }
            maxPMin = Math.max(maxPMin, n.pMin);
            minPMax = Math.min(minPMax, n.pMax);
            maxDMin = Math.max(maxDMin, n.dMin);
            minDMax = Math.min(minDMax, n.dMax);
        }
        for (PushNodeState r : remote) {
            byte[] v = r.vsn();
            if (r.state() != MemberState.ALIVE.code() || v == null || v.length < 6 || v[1] == 0) {
                continue; // no versions (a peer may send six zeros for unknown ones)
            }
            String bad = checkVersions(r.name(), v[2] & 0xFF, v[5] & 0xFF, maxPMin, minPMax, maxDMin, minDMax);
            if (bad != null) {
                return bad;
            }
        }
        for (NodeState n : nodes) {
            if (n.state != MemberState.ALIVE || !n.hasVersions()) {
                continue;
            }
            String bad = checkVersions(n.name, n.pCur, n.dCur, maxPMin, minPMax, maxDMin, minDMax);
            if (bad != null) {
                return bad;
            }
        }
        return null;
    }

    private static String checkVersions(String node, int pCur, int dCur, int maxPMin, int minPMax, int maxDMin,
                                        int minDMax) {
        if (pCur < maxPMin || pCur > minPMax) {
            return "node '" + node + "' protocol version " + pCur + " outside [" + maxPMin + ", " + minPMax + "]";
        }
        if (dCur < maxDMin || dCur > minDMax) {
            return "node '" + node + "' delegate protocol version " + dCur + " outside [" + maxDMin + ", "
                    + minDMax + "]";
        }
        return null;
    }

    /** memberlist's mergeState: remote dead becomes a local suspicion, remote left a leave. */
    private void mergeState(List<PushNodeState> remote) {
        for (PushNodeState r : remote) {
            MemberState st = MemberState.fromCode(r.state());
            if (st == null) {
                rejectedDropped.incrementAndGet();
                continue;
            }
            switch (st) {
                case ALIVE -> aliveNode(new Message.Alive(r.incarnation(), r.name(), r.addr(), r.port(), r.meta(),
                        r.vsn()), null, false);
                case LEFT -> deadNode(new Message.Dead(r.incarnation(), r.name(), r.name()), null);
                case DEAD, SUSPECT -> suspectNode(new Message.Suspect(r.incarnation(), r.name(), name));
            }
        }
    }

    // =====================================================================================
    // alive / suspect / dead (memberlist aliveNode, suspectNode, deadNode, refute)
    // =====================================================================================

    private void aliveNode(Message.Alive a, Runnable notify, boolean bootstrap) {
        boolean isSelfName = a.node().equals(name);
        if (leaving && isSelfName) {
            return; // our own alive while leaving must not resurrect us
        }
        byte[] vsn = a.vsn();
        String badVersions = isSelfName ? null : incompatibleVersions(vsn);
        if (badVersions != null) {
            rejectedDropped.incrementAndGet();
            warnings.warn("alive-vsn", name + ": ignoring alive for " + PeerText.escape(a.node()) + ": "
                    + badVersions);
            return;
        }
        InetSocketAddress addr = NodeState.toSocketAddress(a.addr(), a.port());
        if (addr == null) {
            rejectedDropped.incrementAndGet();
            warnings.warn("alive-addr", name + ": ignoring alive for " + PeerText.escape(a.node())
                    + ": address is not 4 or 16 bytes");
            return;
        }
        byte[] meta = a.meta() == null ? EMPTY : a.meta();
        if (listeners.aliveFilter() != null && !isSelfName) {
            if (vsn == null || vsn.length < 6) {
                rejectedDropped.incrementAndGet();
                warnings.warn("alive-vsn", name + ": ignoring alive for " + PeerText.escape(a.node())
                        + ": no version vector for the alive filter");
                return;
            }
            Member candidate = new Member(a.node(), addr, meta, MemberState.ALIVE,
                    Integer.toUnsignedLong(a.incarnation()), vsn[0] & 0xFF, vsn[1] & 0xFF, vsn[2] & 0xFF,
                    vsn[3] & 0xFF, vsn[4] & 0xFF, vsn[5] & 0xFF);
            boolean accepted;
            try {
                accepted = listeners.aliveFilter().accept(candidate);
            } catch (RuntimeException e) {
                log.warn("{}: alive filter threw for {}; rejecting", name, PeerText.escape(a.node()), e);
                accepted = false;
            }
            if (!accepted) {
                rejectedDropped.incrementAndGet();
                log.debug("{}: alive filter rejected {}", name, PeerText.escape(a.node()));
                return;
            }
        }

        NodeState state = nodeMap.get(a.node());
        boolean updatesNode = false;
        boolean fresh = state == null;
        if (state == null) {
            if (!bootstrap && !admitNewMember(a.node(), addr)) {
                return;
            }
            state = new NodeState(a.node(), a.addr(), a.port(), meta, MemberState.DEAD);
            state.setVersions(vsn);
            nodeMap.put(a.node(), state);
            // A random position keeps the failure detection bound low on average.
            int n = nodes.size();
            int offset = n == 0 ? 0 : random.nextInt(n + 1);
            nodes.add(state);
            Collections.swap(nodes, offset, n);
        } else if (!Arrays.equals(state.addr, a.addr()) || state.port != a.port()) {
            boolean canReclaim = !config.deadNodeReclaimTime().isZero()
                    && scheduler.nanoTime() - state.stateChangeNanos > config.deadNodeReclaimTime().toNanos();
            if (state.state == MemberState.LEFT || (state.state == MemberState.DEAD && canReclaim)) {
                log.info("{}: updating address for left or failed node {}", name, PeerText.escape(state.name));
                updatesNode = true;
            } else {
                rejectedDropped.incrementAndGet();
                warnings.warn("conflict", name + ": conflicting address for " + PeerText.escape(state.name)
                        + ": mine " + state.socketAddress() + " theirs " + addr + " (state " + state.state + ")");
                if (listeners.conflicts() != null) {
                    NodeState other = new NodeState(a.node(), a.addr(), a.port(), meta, MemberState.ALIVE);
                    other.incarnation = Integer.toUnsignedLong(a.incarnation());
                    other.setVersions(vsn);
                    try {
                        listeners.conflicts().onConflict(state.toMember(), other.toMember());
                    } catch (RuntimeException e) {
                        log.warn("{}: conflict listener failed", name, e);
                    }
                }
                return;
            }
        }

        long inc = Integer.toUnsignedLong(a.incarnation());
        boolean isLocalNode = state.name.equals(name);
        // A node new to the table takes any incarnation above 0 (memberlist's rule); a known one
        // only a newer one, in serial order (see Incarnations).
        boolean stale = fresh ? inc == 0 : !Incarnations.newer(inc, state.incarnation);
        if (stale && !isLocalNode && !updatesNode) {
            return;
        }
        if (isLocalNode && Incarnations.older(inc, state.incarnation)) {
            return;
        }
        Suspicion timer = nodeTimers.remove(a.node());
        if (timer != null) {
            timer.cancel();
        }
        MemberState oldState = state.state;
        byte[] oldMeta = state.meta;
        InetSocketAddress oldAddress = state.socketAddress();

        if (!bootstrap && isLocalNode) {
            if (inc == state.incarnation && Arrays.equals(meta, state.meta)
                    && Arrays.equals(vsn, state.versions())) {
                return;
            }
            refute(state, inc);
            warnings.warn("refute-alive", name + ": refuting an alive message for ourselves (incarnation " + inc + ")");
        } else {
            broadcast(a.node(), codec.encode(a), notify);
            state.setVersions(vsn);
            state.incarnation = inc;
            state.meta = meta;
            state.setAddress(a.addr(), a.port());
            failed.remove(state.name);
            if (state.state != MemberState.ALIVE) {
                state.state = MemberState.ALIVE;
                state.stateChangeNanos = scheduler.nanoTime();
            }
        }
        publish(state, oldState, oldMeta, oldAddress);
    }

    /**
     * Why a node's version vector cannot join this cluster, or null. memberlist refuses a zero or
     * inverted protocol range; beyond that, a range that excludes this node's own protocol or
     * delegate version would make every later push/pull fail {@code verifyProtocol}, so one
     * forged alive would stop all joins until it was reaped: it is refused at the door instead.
     */
    private String incompatibleVersions(byte[] vsn) {
        if (vsn == null || vsn.length < 3) {
            return null;
        }
        int pMin = vsn[0] & 0xFF, pMax = vsn[1] & 0xFF, pCur = vsn[2] & 0xFF;
        if (pMin == 0 || pMax == 0 || pMin > pMax) {
            return "protocol versions are wrong: " + pMin + " <= " + pCur + " <= " + pMax + " should be > 0";
        }
        if (config.protocolVersion() < pMin || config.protocolVersion() > pMax
                || pCur < GossipConfig.PROTOCOL_VERSION_MIN || pCur > GossipConfig.PROTOCOL_VERSION_MAX) {
            return "protocol range " + pMin + ".." + pMax + " (speaking " + pCur + ") is incompatible with ours";
        }
        if (vsn.length >= 6) {
            int dMin = vsn[3] & 0xFF, dMax = vsn[4] & 0xFF, dCur = vsn[5] & 0xFF;
            if (dMin > dMax || config.delegateProtocolVersion() < dMin || config.delegateProtocolVersion() > dMax
                    || dCur < config.delegateProtocolMin() || dCur > config.delegateProtocolMax()) {
                return "delegate protocol range " + dMin + ".." + dMax + " (speaking " + dCur
                        + ") is incompatible with ours";
            }
        }
        return null;
    }

    private void suspectNode(Message.Suspect s) {
        NodeState state = nodeMap.get(s.node());
        if (state == null) {
            return;
        }
        long inc = Integer.toUnsignedLong(s.incarnation());
        if (Incarnations.older(inc, state.incarnation)) {
            return;
        }
        Suspicion existing = nodeTimers.get(s.node());
        if (existing != null) {
            if (existing.confirm(s.from())) {
                broadcast(s.node(), codec.encode(s), null);
            }
            return;
        }
        if (state.state != MemberState.ALIVE) {
            return;
        }
        if (state.name.equals(name)) {
            refute(state, inc);
            if (name.equals(s.from())) {
                warnings.info("refute-own", name + ": refuting a suspicion raised by our previous run (a restart under the same name)");
            } else {
                warnings.warn("refute-suspect", name + ": refuting a suspect message (from "
                        + PeerText.escape(s.from()) + ")");
            }
            return;
        }
        broadcast(s.node(), codec.encode(s), null);
        state.incarnation = inc;
        state.state = MemberState.SUSPECT;
        suspicions.incrementAndGet();
        long changeTime = scheduler.nanoTime();
        state.stateChangeNanos = changeTime;
        publish(state, MemberState.ALIVE, state.meta, state.socketAddress());

        // k confirmations expected; none when the cluster is too small to provide them.
        int k = config.suspicionMult() - 2;
        int n = nodes.size();
        if (n - 2 < k) {
            k = 0;
        }
        Duration min = GossipMath.suspicionTimeout(config.suspicionMult(), n, config.probeInterval());
        Duration max = min.multipliedBy(config.suspicionMaxTimeoutMult());
        String nodeName = s.node();
        nodeTimers.put(nodeName, new Suspicion(scheduler, s.from(), k, min, max, () -> {
            NodeState st = nodeMap.get(nodeName);
            if (st != null && st.state == MemberState.SUSPECT && st.stateChangeNanos == changeTime && !shutdown) {
                log.info("{}: marking {} as failed, suspect timeout reached", name, PeerText.escape(nodeName));
                deadNode(new Message.Dead((int) st.incarnation, nodeName, name), null);
            }
        }));
    }

    private void deadNode(Message.Dead d, Runnable notify) {
        NodeState state = nodeMap.get(d.node());
        if (state == null) {
            return;
        }
        long inc = Integer.toUnsignedLong(d.incarnation());
        if (Incarnations.older(inc, state.incarnation)) {
            return;
        }
        Suspicion timer = nodeTimers.remove(d.node());
        if (timer != null) {
            timer.cancel();
        }
        if (state.isGone()) {
            return;
        }
        if (state.name.equals(name)) {
            if (!leaving) {
                refute(state, inc);
                if (name.equals(d.from())) {
                    warnings.info("refute-own", name + ": refuting the leave of our previous run (a restart under the same name)");
                } else {
                    warnings.warn("refute-dead", name + ": refuting a dead message (from "
                            + PeerText.escape(d.from()) + ")");
                }
                return;
            }
            broadcast(d.node(), codec.encode(d), notify);
        } else {
            broadcast(d.node(), codec.encode(d), notify);
        }
        MemberState oldState = state.state;
        state.incarnation = inc;
        state.state = d.node().equals(d.from()) ? MemberState.LEFT : MemberState.DEAD;
        if (state.state == MemberState.DEAD && !state.name.equals(name) && state.socketAddress() != null) {
            failed.remove(state.name);
            failed.put(state.name, new FailedNode(state.socketAddress(), scheduler.nanoTime()));
            if (failed.size() > MAX_FAILED_TRACKED) {
                failed.remove(failed.keySet().iterator().next());
            }
        } else {
            failed.remove(state.name);
        }
        state.stateChangeNanos = scheduler.nanoTime();
        publish(state, oldState, state.meta, state.socketAddress());
    }

    private void refute(NodeState me, long accusedInc) {
        refutations.incrementAndGet();
        long inc = Incarnations.refuting(incarnation, accusedInc);
        incarnation = inc;
        me.incarnation = inc;
        awareness.applyDelta(1); // being accused is a hint that we are the unhealthy one
        Message.Alive a = new Message.Alive((int) inc, me.name, me.addr, me.port, me.meta, me.versions());
        broadcast(me.name, codec.encode(a), null);
        publish(me, me.state, me.meta, me.socketAddress());
    }

    private void broadcast(String node, byte[] message, Runnable notify) {
        broadcasts.enqueue(node, message, notify);
    }

    private void notifyMembership(java.util.function.BiConsumer<MembershipListener, Member> event, NodeState s) {
        notifyMembership(event, s.toMember());
    }

    private void notifyMembership(java.util.function.BiConsumer<MembershipListener, Member> event, Member m) {
        MembershipListener l = listeners.membership();
        if (l == null) {
            return;
        }
        try {
            event.accept(l, m);
        } catch (RuntimeException e) {
            log.warn("{}: membership listener failed", name, e);
        }
    }

    // =====================================================================================
    // Operations requested through Memberlist (state-machine thread)
    // =====================================================================================

    CompletableFuture<Integer> join(List<InetSocketAddress> seeds) {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        List<InetSocketAddress> distinct = new ArrayList<>(new LinkedHashSet<>(seeds));
        if (distinct.isEmpty()) {
            result.completeExceptionally(new GossipException("no seeds given"));
            return result;
        }
        int[] ok = {0};
        int[] pending = {distinct.size()};
        List<String> errors = new ArrayList<>();
        for (InetSocketAddress seed : distinct) {
            pushPullNode(seed, true).whenComplete((v, err) -> {
                if (err == null) {
                    ok[0]++;
                } else {
                    errors.add(seed + ": " + rootMessage(err));
                }
                if (--pending[0] == 0) {
                    if (ok[0] > 0) {
                        result.complete(ok[0]);
                    } else {
                        result.completeExceptionally(new GossipException("failed to join any of "
                                + distinct.size() + " seeds: " + errors));
                    }
                }
            });
        }
        return result;
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.toString() : c.getMessage();
    }

    CompletableFuture<Void> leave(Duration timeout) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        if (leaving) {
            result.complete(null);
            return result;
        }
        leaving = true;
        NodeState me = nodeMap.get(name);
        // Node equal to From tells the others we left on purpose.
        deadNode(new Message.Dead((int) me.incarnation, name, name), () -> result.complete(null));
        awaitBroadcast(result, timeout, "leave");
        return result;
    }

    CompletableFuture<Void> updateMeta(byte[] meta, Duration timeout) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        NodeState me = nodeMap.get(name);
        if (leaving) {
            result.completeExceptionally(new IllegalStateException("node has left"));
            return result;
        }
        long inc = nextIncarnation();
        Message.Alive a = new Message.Alive((int) inc, name, me.addr, me.port, meta, localVersions());
        aliveNode(a, () -> result.complete(null), true);
        awaitBroadcast(result, timeout, "metadata update");
        return result;
    }

    private void awaitBroadcast(CompletableFuture<Void> result, Duration timeout, String what) {
        if (!anyAlive()) {
            result.complete(null);
            return;
        }
        Scheduler.Cancellable t = scheduler.schedule(timeout, () -> result.completeExceptionally(
                new TimeoutException("timeout waiting for " + what + " broadcast")));
        result.whenComplete((v, e) -> t.cancel());
    }

    private boolean anyAlive() {
        for (NodeState n : nodes) {
            if (!n.name.equals(name) && !n.isGone()) {
                return true;
            }
        }
        return false;
    }

    void sendUserPacket(Member to, byte[] payload) {
        NodeState node = nodeMap.get(to.name());
        rawSend(to.address(), node, codec.encode(new Message.User(payload)));
    }

    CompletableFuture<Void> sendUserStream(Member to, byte[] payload) {
        return exchange(to.address(), codec.stream(new Message.User(payload)), false, config.tcpTimeout())
                .thenApply(r -> null);
    }

    // =====================================================================================
    // Sending
    // =====================================================================================

    /** memberlist's sendMsg: piggybacks queued broadcasts when they fit. */
    private void sendMsg(InetSocketAddress to, NodeState node, byte[] msg) {
        if (to == null) {
            return;
        }
        int bytesAvail = config.udpBufferSize() - msg.length - COMPOUND_HEADER_OVERHEAD - codec.packetOverhead();
        List<byte[]> extra = broadcasts.take(COMPOUND_OVERHEAD, bytesAvail);
        if (extra.isEmpty()) {
            rawSend(to, node, msg);
            return;
        }
        List<byte[]> all = new ArrayList<>(1 + extra.size());
        all.add(msg);
        all.addAll(extra);
        if (all.size() <= MAX_COMPOUND_PARTS) {
            rawSend(to, node, codec.compound(all));
        } else {
            for (int i = 0; i < all.size(); i += MAX_COMPOUND_PARTS) {
                rawSend(to, node, codec.compound(all.subList(i, Math.min(all.size(), i + MAX_COMPOUND_PARTS))));
            }
        }
    }

    private void rawSend(InetSocketAddress to, NodeState node, byte[] msg) {
        if (to == null || shutdown) {
            return;
        }
        boolean crc = node != null && node.pMax >= 5;
        packetsSent.incrementAndGet();
        byte[] packet = codec.packet(msg, crc);
        bytesSent.addAndGet(packet.length);
        transport.sendPacket(to, packet);
    }

    private CompletableFuture<byte[]> exchange(InetSocketAddress to, byte[] req, boolean expectReply, Duration timeout) {
        streamsSent.incrementAndGet();
        bytesSent.addAndGet(req.length);
        try {
            return transport.exchange(to, req, expectReply, timeout).whenComplete((reply, err) -> {
                if (reply != null) {
                    bytesReceived.addAndGet(reply.length);
                }
            });
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private List<NodeState> kRandomNodes(int k, Predicate<NodeState> exclude) {
        int n = nodes.size();
        List<NodeState> out = new ArrayList<>(k);
        if (k <= 0 || n == 0) {
            return out;
        }
        if (n < k * 3) {
            List<NodeState> copy = new ArrayList<>(nodes);
            Collections.shuffle(copy, random);
            for (int i = 0; i < n && out.size() < k; i++) {
                NodeState s = copy.get(i);
                if (!exclude.test(s)) {
                    out.add(s);
                }
            }
            return out;
        }
        outer:
        for (int i = 0; i < 3 * n && out.size() < k; i++) {
            NodeState s = nodes.get(random.nextInt(n));
            if (exclude.test(s)) {
                continue;
            }
            for (NodeState o : out) {
                if (o == s) {
                    continue outer;
                }
            }
            out.add(s);
        }
        return out;
    }

    // =====================================================================================
    // Receiving
    // =====================================================================================

    /**
     * Unwraps and decodes on the I/O thread (the codec is stateless), then hands the messages to
     * the state machine the way memberlist's packet handler does: ping, indirect ping, ack and
     * nack are never shed for gossip's sake (memberlist handles them inline), while alive
     * messages and the rest (suspect, dead, user) each wait in a queue of at most
     * HandoffQueueDepth and are dropped, counted, beyond it. Probe traffic has a budget of its
     * own of the same depth, so a flood of it cannot grow the state machine's queue without
     * bound either.
     */
    @Override
    public void onPacket(InetSocketAddress from, byte[] packet, long receivedAtNanos) {
        if (shutdown) {
            return;
        }
        packetsReceived.incrementAndGet();
        bytesReceived.addAndGet(packet.length);
        UnwrappedPacket unwrapped;
        try {
            unwrapped = codec.unwrapPacket(packet);
        } catch (MalformedMessageException e) {
            countMalformed(e, "packet", from);
            return;
        } catch (RuntimeException e) {
            malformedDropped.incrementAndGet();
            warnings.warn("decoder", name + ": dropped packet from " + from + ": decoder failed: " + e);
            return;
        }
        if (unwrapped.truncatedParts() > 0) {
            malformedDropped.addAndGet(unwrapped.truncatedParts());
            log.debug("{}: packet from {} had {} truncated compound parts", name, from, unwrapped.truncatedParts());
        }
        List<Message> admitted = new ArrayList<>(unwrapped.messages().size());
        int probes = 0, alives = 0, others = 0;
        for (byte[] part : unwrapped.messages()) {
            Message m;
            try {
                m = codec.decode(part);
            } catch (MalformedMessageException e) {
                countMalformed(e, "message", from);
                continue;
            } catch (RuntimeException e) {
                malformedDropped.incrementAndGet();
                warnings.warn("decoder", name + ": dropped message from " + from + ": decoder failed: " + e);
                continue;
            }
            AtomicInteger budget;
            if (m instanceof Message.Ping || m instanceof Message.IndirectPing || m instanceof Message.Ack
                    || m instanceof Message.Nack) {
                budget = pendingProbeMessages;
            } else if (m instanceof Message.Alive) {
                budget = pendingAliveMessages;
            } else if (m instanceof Message.Suspect || m instanceof Message.Dead || m instanceof Message.User) {
                budget = pendingOtherMessages;
            } else {
                if (m instanceof Message.Err err) {
                    log.debug("{}: peer {} reported error: {}", name, from, PeerText.escape(err.error()));
                } else {
                    rejectedDropped.incrementAndGet();
                    log.debug("{}: unexpected {} in a packet from {}", name, m.type(), from);
                }
                continue;
            }
            if (budget.incrementAndGet() > config.handoffQueueDepth()) {
                budget.decrementAndGet();
                overloadDropped.incrementAndGet();
                log.debug("{}: handoff queue full, dropping {} from {}", name, m.type(), from);
                continue;
            }
            if (budget == pendingProbeMessages) {
                probes++;
            } else if (budget == pendingAliveMessages) {
                alives++;
            } else {
                others++;
            }
            admitted.add(m);
        }
        if (admitted.isEmpty()) {
            return;
        }
        int p = probes, a = alives, o = others;
        scheduler.execute(() -> {
            pendingProbeMessages.addAndGet(-p);
            pendingAliveMessages.addAndGet(-a);
            pendingOtherMessages.addAndGet(-o);
            handleMessages(from, admitted);
        });
    }

    private void handleMessages(InetSocketAddress from, List<Message> messages) {
        if (shutdown) {
            return;
        }
        for (Message m : messages) {
            try {
                handleMessage(from, m);
            } catch (RuntimeException e) {
                malformedDropped.incrementAndGet();
                warnings.warn("handler", name + ": dropped " + m.type() + " from " + from + ": "
                        + PeerText.escape(e.toString()));
            }
        }
    }

    /**
     * Counts a dropped input under its reason. Decryption failures are logged (rate-limited): a
     * node with the wrong key, or a peer still sending plaintext while this one verifies
     * incoming traffic, must be visible to the operator; other malformed input only at debug.
     */
    private void countMalformed(MalformedMessageException e, String what, Object from) {
        if (e.reason() == MalformedMessageException.Reason.LABEL_MISMATCH) {
            labelDropped.incrementAndGet();
        } else if (e.reason() == MalformedMessageException.Reason.ENCRYPTION) {
            encryptionDropped.incrementAndGet();
            warnings.warn("encryption", name + ": dropped " + what + " from " + from + ": "
                    + PeerText.escape(e.getMessage()) + " (a peer with another gossip key, or one sending "
                    + "plaintext while this node verifies incoming gossip)");
            return;
        } else {
            malformedDropped.incrementAndGet();
        }
        if (log.isDebugEnabled()) {
            log.debug("{}: dropped {} from {}: {}", name, what, from, PeerText.escape(e.getMessage()));
        }
    }

    /**
     * Whether an unknown node may enter the member table: the table is below
     * {@link GossipConfig#maxMembers()} and the admission bucket
     * ({@link GossipConfig#memberAdmissionsPerSecond()}) has a token. A refusal is counted and
     * logged (rate-limited); the node comes back with later gossip if it is real.
     */
    private boolean admitNewMember(String node, InetSocketAddress addr) {
        String refused = admission.admit(nodeMap.size(), scheduler.nanoTime());
        if (refused == null) {
            return true;
        }
        membersRefused.incrementAndGet();
        warnings.warn("member-admission", name + ": " + refused + "; refusing new node " + PeerText.escape(node)
                + " at " + addr);
        return false;
    }

    private void handleMessage(InetSocketAddress from, Message m) {
        if (m instanceof Message.Ping p) {
            handlePing(from, p);
        } else if (m instanceof Message.IndirectPing ind) {
            handleIndirectPing(from, ind);
        } else if (m instanceof Message.Ack ack) {
            invokeAck(ack);
        } else if (m instanceof Message.Nack nack) {
            invokeNack(nack);
        } else if (m instanceof Message.Suspect s) {
            suspectNode(s);
        } else if (m instanceof Message.Alive a) {
            aliveNode(a, null, false);
        } else if (m instanceof Message.Dead d) {
            deadNode(d, null);
        } else if (m instanceof Message.User u) {
            deliverUser(u.payload());
        } else if (m instanceof Message.Err err) {
            log.debug("{}: peer {} reported error: {}", name, from, err.error());
        }
    }

    private void deliverUser(byte[] payload) {
        MessageListener l = listeners.messages();
        if (l == null) {
            return;
        }
        try {
            l.onMessage(payload);
        } catch (RuntimeException e) {
            log.warn("{}: message listener failed", name, e);
        }
    }

    private InetSocketAddress replyAddress(InetSocketAddress from, byte[] sourceAddr, int sourcePort) {
        if (sourceAddr != null && sourceAddr.length > 0 && sourcePort > 0) {
            InetSocketAddress a = NodeState.toSocketAddress(sourceAddr, sourcePort);
            if (a != null) {
                return a;
            }
        }
        return from;
    }

    private void handlePing(InetSocketAddress from, Message.Ping p) {
        if (p.node() != null && !p.node().isEmpty() && !p.node().equals(name)) {
            rejectedDropped.incrementAndGet();
            warnings.warn("ping-target", name + ": got ping for unexpected node '" + PeerText.escape(p.node())
                    + "' from " + from);
            return;
        }
        sendMsg(replyAddress(from, p.sourceAddr(), p.sourcePort()), null,
                codec.encode(new Message.Ack(p.seqNo(), EMPTY)));
    }

    private void handleIndirectPing(InetSocketAddress from, Message.IndirectPing ind) {
        int port = ind.port() == 0 ? selfPort : ind.port();
        InetSocketAddress target = NodeState.toSocketAddress(ind.target(), port);
        if (target == null) {
            rejectedDropped.incrementAndGet();
            return;
        }
        int localSeq = nextSeqNo();
        InetSocketAddress source = replyAddress(from, ind.sourceAddr(), ind.sourcePort());
        boolean[] acked = {false};
        Scheduler.Cancellable nackTimer = ind.nack()
                ? scheduler.schedule(config.probeTimeout(), () -> {
                    if (!acked[0] && !shutdown) {
                        sendMsg(source, null, codec.encode(new Message.Nack(ind.seqNo())));
                    }
                })
                : null;
        setAckHandler(localSeq, payload -> {
            acked[0] = true;
            if (nackTimer != null) {
                nackTimer.cancel();
            }
            sendMsg(source, null, codec.encode(new Message.Ack(ind.seqNo(), EMPTY)));
        }, null, config.probeTimeout(), () -> { });
        sendMsg(target, null, codec.encode(new Message.Ping(localSeq, ind.node(), selfAddr, selfPort, name)));
    }

    @Override
    public CompletableFuture<byte[]> onStream(InetSocketAddress from, byte[] message) {
        CompletableFuture<byte[]> reply = new CompletableFuture<>();
        if (shutdown) {
            reply.complete(null);
            return reply;
        }
        bytesReceived.addAndGet(message.length);
        if (pendingPushPulls.incrementAndGet() > MAX_PUSH_PULL_REQUESTS) {
            pendingPushPulls.decrementAndGet();
            overloadDropped.incrementAndGet();
            warnings.warn("stream-overload", name + ": too many pending stream requests; dropping one from " + from);
            reply.complete(null);
            return reply;
        }
        scheduler.execute(() -> {
            pendingPushPulls.decrementAndGet();
            try {
                byte[] answer = handleStream(from, message);
                if (answer != null) {
                    bytesSent.addAndGet(answer.length);
                }
                reply.complete(answer);
            } catch (RuntimeException e) {
                malformedDropped.incrementAndGet();
                warnings.warn("stream-handler", name + ": failed to handle stream from " + from + ": "
                        + PeerText.escape(e.toString()));
                reply.complete(null);
            }
        });
        return reply;
    }

    private byte[] handleStream(InetSocketAddress from, byte[] bytes) {
        if (shutdown) {
            return null;
        }
        streamsReceived.incrementAndGet();
        Object m;
        try {
            m = codec.decodeStream(bytes);
        } catch (MalformedMessageException e) {
            countMalformed(e, "stream", from);
            return null;
        }
        if (m instanceof PushPull pp) {
            byte[] reply = localStateStream(pp.header().join());
            try {
                mergeRemoteState(pp.header().join(), pp);
            } catch (GossipException e) {
                warnings.warn("push-pull", name + ": push/pull from " + from + " not merged: "
                        + PeerText.escape(e.getMessage()));
            }
            return reply;
        }
        Message msg = (Message) m;
        if (msg instanceof Message.Ping p) {
            if (p.node() != null && !p.node().isEmpty() && !p.node().equals(name)) {
                rejectedDropped.incrementAndGet();
                warnings.warn("ping-target", name + ": got stream ping for unexpected node '"
                        + PeerText.escape(p.node()) + "' from " + from);
                return null;
            }
            return codec.stream(new Message.Ack(p.seqNo(), EMPTY));
        }
        if (msg instanceof Message.User u) {
            deliverUser(u.payload());
            return null;
        }
        rejectedDropped.incrementAndGet();
        warnings.warn("stream-type", name + ": unexpected " + msg.type() + " stream from " + from);
        return null;
    }

    // =====================================================================================
    // Crash-evidence probes: what CrashProbes needs from the state machine (state-machine thread)
    // =====================================================================================

    /** The probes that act on hard evidence of a crash ({@link Memberlist#probeCrash}). */
    CrashProbes crashProbes() {
        return crashProbes;
    }

    /** {@code node} when it is another node that is alive or suspect, else null. */
    NodeState probeTarget(String node) {
        NodeState s = nodeMap.get(node);
        return s == null || s.name.equals(name) || s.isGone() || shutdown ? null : s;
    }

    /** The probe interval scaled by local health, as a normal probe uses it. */
    Duration scaledProbeInterval() {
        return awareness.scaleTimeout(config.probeInterval());
    }

    /** What {@link #sendEvidencePings} sent: its sequence number and how many nacks can come. */
    record EvidencePings(int seq, int indirectPeers, int expectedNacks) {
    }

    /**
     * Pings {@code node} at once through every path a normal probe uses, all together: directly
     * (UDP), through up to indirectChecks alive peers (asking for nacks where they speak protocol
     * 4), and over TCP to its gossip port when it speaks protocol 3. {@code onAck} runs on the
     * first ack by any path, {@code onNack} per nack, {@code onWindowEnd} when {@code window}
     * ends without an ack.
     */
    EvidencePings sendEvidencePings(NodeState node, Duration window, Runnable onAck, Runnable onNack,
                                    Runnable onWindowEnd) {
        int seq = nextSeqNo();
        boolean[] acked = {false};
        Runnable ackOnce = () -> {
            if (!acked[0]) {
                acked[0] = true;
                onAck.run();
            }
        };
        setAckHandler(seq, payload -> ackOnce.run(), onNack, window, onWindowEnd);
        Message.Ping ping = new Message.Ping(seq, node.name, selfAddr, selfPort, name);
        sendMsg(node.socketAddress(), node, codec.encode(ping));
        List<NodeState> peers = kRandomNodes(config.indirectChecks(),
                n -> n.name.equals(name) || n.name.equals(node.name) || n.state != MemberState.ALIVE);
        int expectedNacks = 0;
        for (NodeState peer : peers) {
            boolean nack = peer.pMax >= 4;
            if (nack) {
                expectedNacks++;
            }
            sendMsg(peer.socketAddress(), peer, codec.encode(new Message.IndirectPing(seq, node.addr, node.port,
                    node.name, nack, selfAddr, selfPort, name)));
        }
        if (!config.disableTcpPings() && node.pMax >= 3 && node.socketAddress() != null) {
            exchange(node.socketAddress(), codec.stream(ping), true, window).whenComplete((reply, err) ->
                    scheduler.execute(() -> {
                        if (err == null && isAckFor(reply, seq)) {
                            ackOnce.run();
                        }
                    }));
        }
        return new EvidencePings(seq, peers.size(), expectedNacks);
    }

    /** Stops waiting for acks of {@code seq}; later ones are ignored as late. */
    void endEvidencePings(int seq) {
        AckHandler h = ackHandlers.remove(seq);
        if (h != null) {
            h.timer.cancel();
        }
    }

    /**
     * Declares {@code node} dead through the ordinary dead message (From = this node), when it is
     * still alive or suspect at {@code incarnation}; returns whether it did. {@code beforeEvent}
     * runs just before the change is published, so a listener or a {@code members()} reader that
     * sees the death also sees what {@code beforeEvent} did (the fast-path counter).
     */
    boolean declareDeadOnEvidence(String node, long incarnation, Runnable beforeEvent) {
        NodeState s = probeTarget(node);
        if (s == null || s.incarnation != incarnation) {
            return false;
        }
        beforeEvent.run();
        deadNode(new Message.Dead((int) incarnation, node, name), null);
        return s.state == MemberState.DEAD;
    }
}
