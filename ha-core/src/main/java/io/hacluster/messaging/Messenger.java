package io.hacluster.messaging;

import io.hacluster.ClusterMessage;
import io.hacluster.MessageHandler;
import io.hacluster.SendType;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import io.netty.channel.ChannelFuture;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Inter-node messaging on the StreamingPort.
 *
 * <p>One persistent TCP connection per peer pair; the node whose id sorts lower dials, the other
 * accepts (so there is never a duplicate connection to deduplicate; a newer handshake from the same
 * peer replaces an older connection). Reliable messages carry a per-peer epoch and sequence number,
 * are acknowledged (cumulatively) after the receiver's handler has run, are retransmitted after a
 * reconnect, and are delivered at most once per epoch in per-sender FIFO order. Best-effort
 * messages go through the {@link BestEffortChannel} when they fit, else over the stream unsequenced.
 * No future the messenger returns stays pending past {@link MessengerConfig#sendTimeout()}.
 *
 * <p>Membership is pushed in by the owner (the {@code ClusterNode} facade, synchronously from
 * gossip's events): {@link #peerAlive}, {@link #peerSuspect}, {@link #peerDead}, {@link #peerLeft},
 * {@link #peerForgotten}. A dead or departed peer stays gone (sends fail, connections are refused)
 * until it is reported alive again. Packets that arrived on the best-effort channel are handed to
 * {@link #receiveBestEffort}.
 *
 * <p>The work is split along its concepts: {@link Sender} (queues, writes, acknowledgements,
 * deadlines), {@link Receiver} (sequencing, handlers, acknowledging), {@link Connections}
 * (handshakes, lost connections, fault injection) and {@link Dialer}.
 *
 * <p>Threads: {@code ha-<node>-stream-io-N} (Netty), {@code ha-<node>-handler-N} (handlers),
 * {@code ha-<node>-msg-callback-1} (completes send and request futures, so callers' continuations
 * never run on I/O or handler threads), {@code ha-<node>-msg-timer-1} (timeouts, reconnects).
 * All are daemons and stop in {@link #close()}.
 */
public final class Messenger implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Messenger.class);
    /** How often overdue sends are looked for: the most a send can outlive its deadline. */
    private static final long DEADLINE_SWEEP_MILLIS = 50;

    final MessengerConfig config;
    final String self;
    final BestEffortChannel bestEffort;
    final Counters counters = new Counters();
    final Map<String, MessageHandler> handlers = new ConcurrentHashMap<>();
    final Map<String, PeerLink> peers = new ConcurrentHashMap<>();
    final Set<String> cutPeers = ConcurrentHashMap.newKeySet();

    private volatile boolean started;
    /** Set when close() begins: no new sends, no new deliveries; acknowledgements still flow. */
    private volatile boolean draining;
    private volatile boolean closed;
    // pools create their threads lazily, so building them here costs nothing until start()
    final ThreadPoolExecutor handlerPool;
    final ExecutorService callbacks;
    final ScheduledThreadPoolExecutor timer;
    final SerialExecutor selfSerial;
    final PendingRequests requests;
    final Dialer dialer;
    final Sender sender = new Sender(this);
    final Receiver receiver = new Receiver(this);
    final Connections connections = new Connections(this);
    final ClockProbe clockProbe = new ClockProbe();
    /** Told of latencies, for metrics; never null. */
    volatile MessengerObserver observer = MessengerObserver.NONE;
    final Admission admission = new Admission(this);
    /** Accepted connections whose handshake has not completed (bounded by the security settings). */
    final java.util.concurrent.atomic.AtomicInteger pendingHandshakes = new java.util.concurrent.atomic.AtomicInteger();
    /** Refused and failed handshakes: anyone can cause them, so their lines are rate-limited. */
    final RateLimitedLog refusalLog = new RateLimitedLog(LoggerFactory.getLogger(StreamHandler.class), 10, 10_000);
    private final Closing closing = new Closing(this);
    /** Sends to this node's own id that wait for its handler: swept for deadlines, failed on close. */
    private final Set<AckGroup> localWaits = ConcurrentHashMap.newKeySet();
    /** Inbound stream state of peers gossip forgot, so a forgotten node's late retransmits stay duplicates. */
    private final ForgottenPeers forgotten = new ForgottenPeers();
    EventLoopGroup io;
    Channel serverChannel;
    private volatile java.util.function.BiConsumer<String, InetSocketAddress> abruptPeerLoss;

    /** A messenger whose best-effort messages all go over the stream. */
    public Messenger(MessengerConfig config) {
        this(config, BestEffortChannel.none());
    }

    /** A messenger that sends small best-effort messages through {@code bestEffort}. */
    public Messenger(MessengerConfig config, BestEffortChannel bestEffort) {
        this.config = Objects.requireNonNull(config, "config");
        this.self = config.nodeId();
        this.bestEffort = Objects.requireNonNull(bestEffort, "bestEffort");
        handlerPool = new ThreadPoolExecutor(config.handlerThreads(), config.handlerThreads(), 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), new NamedThreadFactory(self, "handler"));
        callbacks = Executors.newSingleThreadExecutor(new NamedThreadFactory(self, "msg-callback"));
        timer = new ScheduledThreadPoolExecutor(1, new NamedThreadFactory(self, "msg-timer"));
        timer.setRemoveOnCancelPolicy(true);
        timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);  // close does not wait for timeouts
        selfSerial = new SerialExecutor(handlerPool);
        requests = new PendingRequests(callbacks);
        dialer = new Dialer(this, config, timer);
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Starts the threads and binds the StreamingPort.
     *
     * @return the bound address (useful with port 0)
     * @throws MessagingException if the port cannot be bound
     */
    public synchronized InetSocketAddress start() {
        if (io != null) {
            throw new IllegalStateException("already started");
        }
        if (closed) {
            throw new IllegalStateException("closed");
        }
        io = new MultiThreadIoEventLoopGroup(config.ioThreads(), new NamedThreadFactory(self, "stream-io"),
                NioIoHandler.newFactory());
        dialer.start(io);
        started = true;
        WriteBufferWaterMark marks = new WriteBufferWaterMark(config.writeBufferLowWater(), config.writeBufferHighWater());
        ServerBootstrap sb = new ServerBootstrap()
                .group(io)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 128)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, marks)
                .childHandler(new StreamInitializer(this, null, null));
        try {
            serverChannel = sb.bind(config.bindAddress()).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            close();
            throw new MessagingException("cannot bind StreamingPort " + config.bindAddress() + ": " + e.getMessage(), e);
        }
        long sweep = Math.min(DEADLINE_SWEEP_MILLIS, Math.max(1, config.sendTimeout().toMillis() / 4));
        timer.scheduleWithFixedDelay(this::sweepDeadlines, sweep, sweep, TimeUnit.MILLISECONDS);
        InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
        log.info("node {} messaging listening on {}", self, bound);
        for (PeerLink p : peers.values()) {
            dialer.dial(p); // peers announced before start
        }
        return bound;
    }

    private void sweepDeadlines() {
        try {
            sender.expireOverdue();
            long now = System.nanoTime();
            List<AckGroup> settled = new ArrayList<>();
            for (AckGroup g : localWaits) {
                if (g.isSettled() || g.deadlineNanos - now <= 0) {
                    localWaits.remove(g);
                    if (g.expire(config.sendTimeout())) {
                        settled.add(g);
                    }
                }
            }
            sender.finishLater(settled);
        } catch (RuntimeException e) {
            log.warn("node {}: expiring overdue sends failed", self, e);
        }
    }

    /**
     * Begins a graceful close and waits for it, at most {@link MessengerConfig#drainTimeout()}: from
     * now on sends fail with {@link MessengerClosedException} and frames that arrive are neither
     * handled nor acknowledged (replies to this node's own requests still complete them); handlers
     * that have a message finish; then each connected peer gets the cumulative ACK of everything
     * handled followed by GOODBYE, on which it fails what this node did not acknowledge at once,
     * knowing it was not handled; and this node's own reliable messages to connected peers get the
     * rest of the time to be acknowledged. So every message this node handled is acknowledged
     * before it leaves, and a restarted node with the same id never runs it again. Runs once: a
     * second caller waits for the first; {@link #close()} calls it first.
     *
     * @return true if everything drained within the timeout
     */
    public boolean drain() {
        return closing.drain();
    }

    /**
     * Drains (see {@link #drain()}), then stops everything: pending sends and requests fail with
     * {@link MessengerClosedException}, connections close, threads stop. Idempotent; a second
     * caller returns once the first has stopped. Do not call it from a handler: the drain cannot
     * wait for the handler that calls it, and its sender's later messages are dropped.
     */
    @Override
    public void close() {
        closing.drain();
        closing.stop();
    }

    /**
     * Stops at once, without draining, as a crashed process looks to its peers: what was handled
     * but not yet acknowledged stays unacknowledged (its senders retransmit it elsewhere or fail
     * it). For tests and drills; {@link #close()} is the graceful way. Idempotent.
     */
    public void closeAbruptly() {
        closing.stop();
    }

    /** Marks the drain begun; false if it already was. */
    synchronized boolean beginDrain() {
        if (draining) {
            return false;
        }
        draining = true;
        return true;
    }

    /** Marks the messenger closed; false if it already was. */
    synchronized boolean beginStop() {
        if (closed) {
            return false;
        }
        closed = true;
        return true;
    }

    /** This node's id. */
    public String nodeId() {
        return self;
    }

    /** The bound StreamingPort address, or null before {@link #start()}. */
    public InetSocketAddress localAddress() {
        Channel c = serverChannel;
        return c == null ? null : (InetSocketAddress) c.localAddress();
    }

    // ------------------------------------------------------------------ handlers

    /** Registers the handler for {@code event}; a later registration replaces an earlier one. */
    public void registerHandler(String event, MessageHandler handler) {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(handler, "handler");
        MessageHandler old = handlers.put(event, handler);
        if (old != null) {
            log.debug("handler for event '{}' replaced", event);
        }
    }

    /** Removes the handler for {@code event}, if any. */
    public void unregisterHandler(String event) {
        handlers.remove(event);
    }

    // ------------------------------------------------------------------ membership

    /**
     * A peer is alive at {@code streamingAddress}. Creates or revives its link; a peer coming back
     * from dead or left gets a fresh outbound epoch. If this node dials the pair, it connects now.
     */
    public void peerAlive(String nodeId, InetSocketAddress streamingAddress) {
        Objects.requireNonNull(streamingAddress, "streamingAddress");
        if (nodeId.equals(self) || closed) {
            return;
        }
        PeerLink p = peers.computeIfAbsent(nodeId, id -> newLink(id, PeerState.ALIVE));
        if (p.leaveGrace != null) {
            settleGone(p, PeerState.LEFT);  // back before its old connection said goodbye: settle the old one first
        }
        Channel stale = null;
        synchronized (p) {
            if (p.state.isGone()) {
                p.newOutboundEpoch();
            }
            p.departing = false;
            if (p.address != null && !p.address.equals(streamingAddress) && p.weDial && p.channel != null) {
                stale = p.channel; // restarted elsewhere: the old connection leads nowhere useful
            }
            p.address = streamingAddress;
            p.state = PeerState.ALIVE;
        }
        if (stale != null) {
            stale.close();
        }
        dialer.dial(p);
    }

    /**
     * Sets who hears of a peer whose streaming connection ended from its side without a GOODBYE
     * (a reset, or an end of stream) while it was alive or suspect: hard evidence, on a host that
     * stays up, that its process died. Called on an I/O thread with the peer's id and streaming
     * address; it must not block. Not called for a GOODBYE, a leave, this node's own closing, a
     * fault-injection cut, or a connection replaced by a newer one. {@code null} removes it.
     */
    public void onAbruptPeerLoss(java.util.function.BiConsumer<String, InetSocketAddress> listener) {
        abruptPeerLoss = listener;
    }

    void abruptPeerLoss(String nodeId, InetSocketAddress streamingAddress) {
        java.util.function.BiConsumer<String, InetSocketAddress> l = abruptPeerLoss;
        if (l == null) {
            return;
        }
        try {
            l.accept(nodeId, streamingAddress);
        } catch (RuntimeException e) {
            log.warn("abrupt peer loss listener failed for {}", nodeId, e);
        }
    }

    /** A peer is suspected: messages to it wait in its bounded queue; reconnecting continues. */
    public void peerSuspect(String nodeId) {
        PeerLink p = peers.get(nodeId);
        if (p == null) {
            return;
        }
        synchronized (p) {
            if (p.state == PeerState.ALIVE || p.state == PeerState.UNANNOUNCED) {
                p.state = PeerState.SUSPECT;
            }
        }
    }

    /**
     * A peer is declared dead: its queued and unacknowledged messages and its pending requests
     * fail with {@link PeerUnavailableException}; its connection closes; new sends to it fail and
     * its connections are refused until {@link #peerAlive}. Its inbound duplicate-suppression state
     * is kept, in case it was a false positive and retransmits.
     */
    public void peerDead(String nodeId) {
        markGone(nodeId, PeerState.DEAD);
    }

    /** A peer left gracefully: as {@link #peerDead}. */
    public void peerLeft(String nodeId) {
        markGone(nodeId, PeerState.LEFT);
    }

    /** Gossip forgot a dead or departed peer: its link is dropped (a live one is kept). */
    public void peerForgotten(String nodeId) {
        peers.computeIfPresent(nodeId, (id, p) -> {
            synchronized (p) {
                if (!p.state.isGone()) {
                    return p;
                }
                forgotten.remember(id, p.inbound);
                clockProbe.forget(id);
                return null;
            }
        });
    }

    /** Drops an unannounced peer's link when its only connection closed and nothing waits for it. */
    void dropIfUnannounced(PeerLink p) {
        peers.computeIfPresent(p.nodeId, (id, link) -> {
            synchronized (link) {
                if (link != p || link.state != PeerState.UNANNOUNCED || link.channel != null || link.pending > 0
                        || !link.serial.idle()) {
                    return link;
                }
                forgotten.remember(id, link.inbound);
                return null;
            }
        });
    }

    private void markGone(String nodeId, PeerState state) {
        if (nodeId.equals(self)) {
            return;
        }
        // a peer never heard of still gets a tombstone: its late connection must not revive it
        PeerLink p = peers.computeIfAbsent(nodeId, id -> newLink(id, state));
        if (state == PeerState.LEFT && connections.awaitFinalAcks(p)) {
            return;  // settled once its final ACK and GOODBYE, already on their way, have arrived
        }
        settleGone(p, state);
    }

    /**
     * Fails what is still unacknowledged to a departed peer, its requests too, and closes its
     * connection; new sends to it fail until it is alive again.
     */
    void settleGone(PeerLink p, PeerState state) {
        String nodeId = p.nodeId;
        List<Outgoing> failed;
        Channel ch;
        synchronized (p) {
            if (p.leaveGrace != null) {
                p.leaveGrace.cancel(false);
                p.leaveGrace = null;
            }
            p.state = state;
            failed = p.drainAll();
            ch = p.channel;
            p.channel = null;
            p.dialing = false;
            if (p.reconnect != null) {
                p.reconnect.cancel(false);
                p.reconnect = null;
            }
        }
        if (ch != null) {
            ch.close();
        }
        String why = "peer " + nodeId + (state == PeerState.DEAD ? " was declared dead" : " left the cluster");
        if (!failed.isEmpty()) {
            log.info("{}; {} unacknowledged messages to it failed", why, failed.size());
        }
        sender.fail(nodeId, failed, new PeerUnavailableException(nodeId, why + "; message not acknowledged"));
        requests.failFor(nodeId, r -> new PeerUnavailableException(nodeId, why + " before replying to '" + r.event() + "'"));
    }

    /** The ids of peers with an established streaming connection. */
    public Set<String> connectedPeers() {
        return peers.values().stream().filter(p -> {
            synchronized (p) {
                return p.channel != null;
            }
        }).map(p -> p.nodeId).collect(Collectors.toUnmodifiableSet());
    }

    /** Messages queued or unacknowledged for {@code nodeId} (0 for an unknown peer). */
    public int pendingCount(String nodeId) {
        PeerLink p = peers.get(nodeId);
        if (p == null) {
            return 0;
        }
        synchronized (p) {
            return p.pending;
        }
    }

    /** Messages from {@code nodeId} waiting for their handler (tests, diagnostics). */
    int inboundWaiting(String nodeId) {
        PeerLink p = peers.get(nodeId);
        return p == null ? 0 : p.serial.size();
    }

    /** Counters since start. */
    public MessengerStats stats() {
        return counters.snapshot();
    }

    // ------------------------------------------------------------------ clocks and observation

    /**
     * Sets the wall clock this node reads when it measures its peers' clock offsets and answers
     * their measurements ({@code ClusterNodeBuilder.clock}), and how often each connection takes a
     * sample (default 1 s). Call before {@link #start()}.
     */
    public synchronized void configureClockSampling(java.time.Clock wallClock, Duration sampleInterval) {
        if (started) {
            throw new IllegalStateException("configure clock sampling before start");
        }
        clockProbe.configure(wallClock, sampleInterval);
    }

    /**
     * Each peer's clock offset from this node's clock, from the minimum-delay sample of the last
     * few round trips on its streaming connection; peers without a recent sample (not connected
     * for a minute, or of a version that does not answer) are absent.
     */
    public Map<String, io.hacluster.ClockOffset> clockOffsets() {
        return clockProbe.estimates();
    }

    /** {@link #clockOffsets()} of one peer, or null. */
    public io.hacluster.ClockOffset clockOffset(String nodeId) {
        return clockProbe.estimate(nodeId);
    }

    /** Calls {@code listener} with a peer's id when its first clock sample arrives (for per-peer meters). */
    public void onClockPeer(java.util.function.Consumer<String> listener) {
        clockProbe.onNewPeer(listener);
    }

    /** Counts of the clock-offset probe since start. */
    public ClockProbeStats clockProbeStats() {
        return new ClockProbeStats(clockProbe.samples.sum(), clockProbe.rejected.sum(), clockProbe.ignored.sum(),
                clockProbe.answered.sum(), clockProbe.unanswered.sum());
    }

    /** Sets what is told of send-to-acknowledgement and handler latencies (metrics); null for nothing. */
    public void observe(MessengerObserver o) {
        observer = o == null ? MessengerObserver.NONE : o;
    }

    /** Fault injection on this node's streaming connections. */
    public StreamFaults faults() {
        return connections.faults();
    }

    // ------------------------------------------------------------------ sending

    /**
     * Sends to every other node the messenger was told is alive or suspect. The
     * {@code ClusterNode} facade uses {@link #send(ClusterMessage, Collection)} with gossip's view
     * instead, so that its targets are exactly what {@code members()} shows.
     */
    public CompletableFuture<SendResult> send(ClusterMessage message) {
        List<String> targets = new ArrayList<>();
        for (PeerLink p : peers.values()) {
            synchronized (p) {
                if (p.state == PeerState.ALIVE || p.state == PeerState.SUSPECT) {
                    targets.add(p.nodeId);
                }
            }
        }
        return send(message, targets);
    }

    /**
     * Sends to each of {@code targetIds} (Mattermost's {@code SendClusterMessage} over the
     * membership view the caller took). This node's own id among them is skipped.
     *
     * @return completes with the {@link SendResult} when the message was queued for every target,
     *     or for a reliable message with {@code waitForAllToSend} when every target ran its handler
     *     (at most {@link MessengerConfig#sendTimeout()} later); with no targets it completes at
     *     once with an empty result. Fails with the cause itself when the only target failed, else
     *     with a {@link SendFailedException} that tells each target's outcome
     */
    public CompletableFuture<SendResult> send(ClusterMessage message, Collection<String> targetIds) {
        Objects.requireNonNull(message, "message");
        Throwable refusal = refusalToSend();
        if (refusal != null) {
            return CompletableFuture.failedFuture(refusal);
        }
        List<String> targets = new ArrayList<>(targetIds.size());
        for (String id : targetIds) {
            if (!id.equals(self) && !targets.contains(id)) {
                targets.add(id);
            }
        }
        return sender.send(targets, message, true);
    }

    /**
     * Sends to one node (Mattermost's {@code SendClusterMessageToNode}). Sending to this node's own
     * id runs the local handler.
     *
     * @return as {@link #send}; fails with {@link PeerUnavailableException} for an unknown, dead or
     *     departed node, {@link QueueFullException} when its queue is full,
     *     {@link FrameTooLargeException} when the message exceeds the frame limit,
     *     {@link DeliveryTimeoutException} when a waited-for acknowledgement does not come in time
     */
    public CompletableFuture<SendResult> sendTo(String nodeId, ClusterMessage message) {
        Objects.requireNonNull(nodeId, "nodeId");
        Throwable refusal = refusalToSend();
        if (refusal != null) {
            return CompletableFuture.failedFuture(refusal);
        }
        if (nodeId.equals(self)) {
            return receiver.deliverLocally(message);
        }
        return sender.send(List.of(nodeId), message, false);
    }

    /** Why a send is refused now (not started, closing or closed), or null. */
    Throwable refusalToSend() {
        if (closed || draining || !started) {
            return new MessengerClosedException("messenger of node " + self
                    + (started ? (closed ? " is closed" : " is closing") : " is not started"));
        }
        return null;
    }

    /**
     * Sends a request and returns the reply. The target's handler answers with
     * {@link IncomingMessage#reply(byte[])}.
     *
     * @param timeout how long to wait for the reply; capped at {@link MessengerConfig#sendTimeout()}
     * @return the reply; fails with {@link TimeoutException} after the timeout,
     *     {@link RemoteHandlerException} if the target has no handler or it failed,
     *     {@link PeerUnavailableException} if the target is unknown, or is declared dead or leaves
     *     meanwhile
     */
    public CompletableFuture<byte[]> request(String nodeId, String event, byte[] data, Duration timeout) {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(timeout, "timeout");
        Duration wait = timeout.compareTo(config.sendTimeout()) > 0 ? config.sendTimeout() : timeout;
        ClusterMessage m = ClusterMessage.reliable(event, data);
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        Throwable refusal = refusalToSend();
        if (refusal != null) {
            f.completeExceptionally(refusal);
            return f;
        }
        ScheduledFuture<?> timeoutTask;
        try {
            timeoutTask = timer.schedule(() -> f.completeExceptionally(
                    new TimeoutException("no reply from " + nodeId + " to '" + event + "' within " + wait)),
                    wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            f.completeExceptionally(new MessengerClosedException("messenger of node " + self + " closed"));
            return f;
        }
        f.whenComplete((r, e) -> timeoutTask.cancel(false));
        if (nodeId.equals(self)) {
            requests.register(self, event, f);  // so that close fails it like any other
            receiver.requestLocally(m, bytes -> completeLater(() -> f.complete(bytes)),
                    err -> completeLater(() -> f.completeExceptionally(err)));
            return f;
        }
        PeerLink p = peers.get(nodeId);
        if (p == null) {
            f.completeExceptionally(new PeerUnavailableException(nodeId, "unknown peer " + nodeId));
            return f;
        }
        long id = requests.register(nodeId, event, f);
        try {
            EncodedBody body = sender.encode(event, Map.of(), m.data());
            Throwable failure = sender.enqueue(p, body, true, MessageKind.REQUEST, id, null, 0);
            if (failure != null) {
                f.completeExceptionally(failure);
            }
        } catch (RuntimeException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    /**
     * Asks every peer the messenger was told is alive or suspect (and this node if
     * {@code includeSelf}); see {@link #gather(String, byte[], Duration, Collection)}.
     */
    public CompletableFuture<Map<String, NodeReply>> gather(String event, byte[] data, Duration timeout,
                                                             boolean includeSelf) {
        List<String> targets = new ArrayList<>();
        for (PeerLink p : peers.values()) {
            synchronized (p) {
                if (p.state == PeerState.ALIVE || p.state == PeerState.SUSPECT) {
                    targets.add(p.nodeId);
                }
            }
        }
        if (includeSelf) {
            targets.add(self);
        }
        return gather(event, data, timeout, targets);
    }

    /**
     * Asks each of {@code targetIds} and collects each answer or error (Mattermost's cluster stats
     * / logs / plugin statuses pattern). Never hangs: a node that dies or stays silent yields an
     * error entry after at most {@code timeout} (capped at the send timeout).
     *
     * @return node id to reply, sorted by node id; the future itself always completes normally
     */
    public CompletableFuture<Map<String, NodeReply>> gather(String event, byte[] data, Duration timeout,
                                                             Collection<String> targetIds) {
        Map<String, CompletableFuture<NodeReply>> replies = new TreeMap<>();
        for (String id : targetIds) {
            replies.computeIfAbsent(id, target -> request(target, event, data, timeout)
                    .handle((r, e) -> e == null ? NodeReply.ok(target, r) : NodeReply.failed(target, unwrap(e))));
        }
        return CompletableFuture.allOf(replies.values().toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            Map<String, NodeReply> out = new TreeMap<>();
            replies.forEach((id, f) -> out.put(id, f.join()));
            return out;
        });
    }

    /**
     * Decodes one packet that arrived on the best-effort channel and hands it to its handler.
     * Malformed packets and packets from unknown senders are dropped and counted; never throws.
     */
    public void receiveBestEffort(byte[] packet) {
        if (packet == null || closed || !started) {
            return;
        }
        receiver.onBestEffortPacket(packet);
    }

    // ------------------------------------------------------------------ for the parts

    PeerLink newLink(String nodeId, PeerState state) {
        PeerLink p = new PeerLink(nodeId, self.compareTo(nodeId) < 0, new SerialExecutor(handlerPool), state);
        p.inbound = forgotten.recall(nodeId);
        return p;
    }

    /** Tracks a send to this node's own id that waits for its handler. */
    void trackLocal(AckGroup g) {
        localWaits.add(g);
    }

    void untrackLocal(AckGroup g) {
        localWaits.remove(g);
    }

    /** Closing: every send to this node's own id still waiting fails. */
    void failLocalWaits(Throwable cause) {
        List<AckGroup> settled = new ArrayList<>();
        for (AckGroup g : localWaits) {
            localWaits.remove(g);
            if (g.failed(0, cause)) {
                settled.add(g);
            }
        }
        settled.forEach(AckGroup::finish);
    }

    /** Runs a completion on the callback thread, or here once that thread is gone. */
    void completeLater(Runnable r) {
        try {
            callbacks.execute(r);
        } catch (RejectedExecutionException closing) {
            r.run();
        }
    }

    /** Takes a place among the connections awaiting a handshake; false when all are taken. */
    boolean admitHandshake() {
        if (pendingHandshakes.incrementAndGet() > config.security().maxPendingHandshakes()) {
            pendingHandshakes.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Accepted connections that have not completed their handshake now (tests, diagnostics). */
    public int pendingHandshakes() {
        return pendingHandshakes.get();
    }

    boolean isStarted() {
        return started;
    }

    MessengerConfig config() {
        return config;
    }

    Counters counters() {
        return counters;
    }

    boolean isClosed() {
        return closed;
    }

    boolean isDraining() {
        return draining;
    }

    boolean isCut(String nodeId) {
        return cutPeers.contains(nodeId);
    }

    static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
