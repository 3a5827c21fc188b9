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
import java.util.ArrayList;
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
 *
 * <p>Membership is pushed in by the owner (the {@code ClusterNode} facade): {@link #peerAlive},
 * {@link #peerSuspect}, {@link #peerDead}, {@link #peerLeft}. Packets that arrived on the
 * best-effort channel are handed to {@link #receiveBestEffort}.
 *
 * <p>Threads: {@code ha-<node>-stream-io-N} (Netty), {@code ha-<node>-handler-N} (handlers),
 * {@code ha-<node>-msg-callback-1} (completes send and request futures, so callers' continuations
 * never run on I/O or handler threads), {@code ha-<node>-msg-timer-1} (timeouts, reconnects).
 * All are daemons and stop in {@link #close()}.
 */
public final class Messenger implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Messenger.class);
    private static final int MAX_UNANNOUNCED_PEERS = 1024;
    /** Deliveries after which an ACK goes out even if more messages of the sender are waiting. */
    private static final int ACK_EVERY = 64;

    private final MessengerConfig config;
    private final String self;
    private final BestEffortChannel bestEffort;
    private final Counters counters = new Counters();
    private final Map<String, MessageHandler> handlers = new ConcurrentHashMap<>();
    private final Map<String, PeerLink> peers = new ConcurrentHashMap<>();
    private final Set<String> cutPeers = ConcurrentHashMap.newKeySet();
    private final StreamFaults faults = new Faults();

    private volatile boolean started;
    private volatile boolean closed;
    // pools create their threads lazily, so building them here costs nothing until start()
    private final ThreadPoolExecutor handlerPool;
    private final ExecutorService callbacks;
    private final ScheduledThreadPoolExecutor timer;
    private final SerialExecutor selfSerial;
    private final PendingRequests requests;
    private final Dialer dialer;
    private EventLoopGroup io;
    private Channel serverChannel;

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
        InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
        log.info("node {} messaging listening on {}", self, bound);
        for (PeerLink p : peers.values()) {
            dialer.dial(p); // peers announced before start
        }
        return bound;
    }

    /**
     * Stops everything: pending sends and requests fail with {@link MessengerClosedException},
     * connections close, threads stop. Idempotent.
     */
    @Override
    public void close() {
        List<Outgoing> failed = new ArrayList<>();
        List<Channel> channels = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        for (PeerLink p : peers.values()) {
            synchronized (p) {
                failed.addAll(p.drainAll());
                if (p.channel != null) {
                    channels.add(p.channel);
                }
                p.channel = null;
                if (p.reconnect != null) {
                    p.reconnect.cancel(false);
                }
            }
        }
        MessengerClosedException ex = new MessengerClosedException("messenger of node " + self + " closed");
        for (Outgoing o : failed) {
            if (o.ackGroup != null && o.ackGroup.failed(o.nodeId(), ex)) {
                o.ackGroup.finish();
            }
        }
        requests.failAll(ex);
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        for (Channel c : channels) {
            c.close();
        }
        if (io != null) {
            io.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        shutdown(timer);
        shutdown(handlerPool);
        shutdown(callbacks);
        log.info("node {} messaging closed", self);
    }

    private static void shutdown(ExecutorService e) {
        if (e == null) {
            return;
        }
        e.shutdown();
        try {
            if (!e.awaitTermination(2, TimeUnit.SECONDS)) {
                e.shutdownNow();
            }
        } catch (InterruptedException ie) {
            e.shutdownNow();
            Thread.currentThread().interrupt();
        }
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
        Channel stale = null;
        synchronized (p) {
            if (p.state == PeerState.DEAD || p.state == PeerState.LEFT) {
                p.newOutboundEpoch();
            }
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
     * fail with {@link PeerUnavailableException}; its connection closes; new sends to it fail
     * until {@link #peerAlive}. Its inbound duplicate-suppression state is kept, in case it was a
     * false positive and retransmits.
     */
    public void peerDead(String nodeId) {
        markGone(nodeId, PeerState.DEAD);
    }

    /** A peer left gracefully: as {@link #peerDead}, and everything about it is forgotten. */
    public void peerLeft(String nodeId) {
        markGone(nodeId, PeerState.LEFT);
        peers.remove(nodeId);
    }

    private void markGone(String nodeId, PeerState state) {
        PeerLink p = peers.get(nodeId);
        if (p == null) {
            return;
        }
        List<Outgoing> failed;
        Channel ch;
        synchronized (p) {
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
            log.warn("{}; {} unacknowledged messages to it failed", why, failed.size());
        }
        PeerUnavailableException ex = new PeerUnavailableException(nodeId, why + "; message not acknowledged");
        List<AckGroup> settled = new ArrayList<>();
        for (Outgoing o : failed) {
            if (o.ackGroup != null && o.ackGroup.failed(nodeId, ex)) {
                settled.add(o.ackGroup);
            }
        }
        finishLater(settled);
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

    /** Fault injection on this node's streaming connections. */
    public StreamFaults faults() {
        return faults;
    }

    // ------------------------------------------------------------------ sending

    /**
     * Sends to every other node that is alive, suspect, or connected (Mattermost's
     * {@code SendClusterMessage}). With no peers the future completes at once.
     *
     * @return completes when queued for every target, or for a reliable message with
     *     {@code waitForAllToSend} when every target ran its handler; fails with a
     *     {@link MessagingException} naming the targets that failed (others may still deliver)
     */
    public CompletableFuture<Void> send(ClusterMessage message) {
        List<PeerLink> targets = new ArrayList<>();
        for (PeerLink p : peers.values()) {
            synchronized (p) {
                if (p.state == PeerState.ALIVE || p.state == PeerState.SUSPECT
                        || (p.state == PeerState.UNANNOUNCED && p.channel != null)) {
                    targets.add(p);
                }
            }
        }
        if (targets.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        EncodedBody body;
        try {
            body = encode(message.event(), message.props(), message.data());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return sendToAll(targets, message, body);
    }

    /**
     * Sends to one node (Mattermost's {@code SendClusterMessageToNode}). Sending to this node's own
     * id runs the local handler.
     *
     * @return as {@link #send}; fails with {@link PeerUnavailableException} for an unknown, dead or
     *     departed node, {@link QueueFullException} when its queue is full,
     *     {@link FrameTooLargeException} when the message exceeds the frame limit
     */
    public CompletableFuture<Void> sendTo(String nodeId, ClusterMessage message) {
        Objects.requireNonNull(nodeId, "nodeId");
        if (nodeId.equals(self)) {
            return deliverLocally(message);
        }
        PeerLink p = peers.get(nodeId);
        if (p == null) {
            return CompletableFuture.failedFuture(new PeerUnavailableException(nodeId, "unknown peer " + nodeId));
        }
        EncodedBody body;
        try {
            body = encode(message.event(), message.props(), message.data());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return sendToAll(List.of(p), message, body);
    }

    /**
     * Sends one encoded message to each target. The future settles at once unless a reliable
     * message waits for acknowledgements; then the last acknowledgement (or failure) settles it.
     */
    private CompletableFuture<Void> sendToAll(List<PeerLink> targets, ClusterMessage m, EncodedBody body) {
        boolean tracked = m.sendType() == SendType.RELIABLE && m.waitForAllToSend();
        AckGroup group = new AckGroup(m.event(), targets.size());
        byte[][] packet = new byte[1][];
        boolean settled = false;
        for (PeerLink p : targets) {
            Throwable failure = sendTo(p, m, body, packet, tracked ? group : null);
            if (failure != null) {
                settled = group.failed(p.nodeId, failure);
            } else if (!tracked) {
                settled = group.acked();
            }
        }
        if (settled) {
            group.finish(); // everything was decided here, on the caller's thread
        }
        return group.future();
    }

    /** Queues or hands over one message for {@code p}; returns the failure, or null. */
    private Throwable sendTo(PeerLink p, ClusterMessage m, EncodedBody body, byte[][] packetHolder, AckGroup group) {
        if (m.sendType() == SendType.BEST_EFFORT) {
            int max = bestEffort.maxPacketSize();
            if (max > 0 && body.bytes().length + 3 + 2 + self.length() * 3 <= max) {
                if (packetHolder[0] == null) {
                    packetHolder[0] = Wire.bestEffortPacket(self, body);
                }
                if (packetHolder[0].length <= max && trySendPacket(p.nodeId, packetHolder[0])) {
                    counters.sent.increment();
                    counters.bestEffortViaChannel.increment();
                    return null;
                }
            }
            return enqueue(p, body, false, MessageKind.MESSAGE, 0, null);
        }
        return enqueue(p, body, true, MessageKind.MESSAGE, 0, group);
    }

    private boolean trySendPacket(String nodeId, byte[] packet) {
        try {
            return bestEffort.trySend(nodeId, packet);
        } catch (RuntimeException e) {
            log.debug("best-effort channel failed for {}; using the stream", nodeId, e);
            return false;
        }
    }

    /**
     * Sends a request and returns the reply. The target's handler answers with
     * {@link IncomingMessage#reply(byte[])}.
     *
     * @return the reply; fails with {@link TimeoutException} after {@code timeout},
     *     {@link RemoteHandlerException} if the target has no handler or it failed,
     *     {@link PeerUnavailableException} if the target is unknown or declared dead meanwhile
     */
    public CompletableFuture<byte[]> request(String nodeId, String event, byte[] data, Duration timeout) {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(timeout, "timeout");
        ClusterMessage m = ClusterMessage.reliable(event, data);
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        if (closed || !started) {
            f.completeExceptionally(new MessengerClosedException("messenger of node " + self + " is not running"));
            return f;
        }
        ScheduledFuture<?> timeoutTask;
        try {
            timeoutTask = timer.schedule(() -> f.completeExceptionally(
                    new TimeoutException("no reply from " + nodeId + " to '" + event + "' within " + timeout)),
                    timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            f.completeExceptionally(new MessengerClosedException("messenger of node " + self + " closed"));
            return f;
        }
        if (nodeId.equals(self)) {
            runLocally(m, bytes -> callbacks.execute(() -> f.complete(bytes)),
                    err -> callbacks.execute(() -> f.completeExceptionally(err)));
            return f.whenComplete((r, e) -> timeoutTask.cancel(false));
        }
        PeerLink p = peers.get(nodeId);
        if (p == null) {
            timeoutTask.cancel(false);
            f.completeExceptionally(new PeerUnavailableException(nodeId, "unknown peer " + nodeId));
            return f;
        }
        long id = requests.register(nodeId, event, f);
        f.whenComplete((r, e) -> timeoutTask.cancel(false));
        try {
            EncodedBody body = encode(event, Map.of(), m.data());
            Throwable failure = enqueue(p, body, true, MessageKind.REQUEST, id, null);
            if (failure != null) {
                f.completeExceptionally(failure);
            }
        } catch (RuntimeException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    /**
     * Asks every live peer (and this node if {@code includeSelf}) and collects each answer or error
     * (Mattermost's cluster stats / logs / plugin statuses pattern). Never hangs: a node that dies
     * or stays silent yields an error entry after at most {@code timeout}.
     *
     * @return node id to reply, sorted by node id; the future itself always completes normally
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
        Map<String, CompletableFuture<NodeReply>> replies = new TreeMap<>();
        for (String id : targets) {
            replies.put(id, request(id, event, data, timeout)
                    .handle((r, e) -> e == null ? NodeReply.ok(id, r) : NodeReply.failed(id, unwrap(e))));
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
        Wire.Packet decoded;
        try {
            decoded = Wire.decodePacket(packet, config.maxFrameSize());
        } catch (ProtocolException | RuntimeException e) {
            counters.bestEffortDropped.increment();
            log.debug("dropped malformed best-effort packet of {} bytes: {}", packet.length, e.getMessage());
            return;
        }
        PeerLink p = peers.get(decoded.senderId());
        if (p == null) {
            counters.bestEffortDropped.increment();
            log.debug("dropped best-effort packet from unknown node {}", decoded.senderId());
            return;
        }
        int size = decoded.body().data().length;
        synchronized (p) {
            if (p.serial.size() >= config.inboundHighWater() || p.inboundBytes + size > config.maxPendingBytesPerPeer()) {
                counters.bestEffortDropped.increment();
                log.debug("dropped best-effort packet from {}: its handler queue is full", p.nodeId);
                return;
            }
            p.inboundBytes += size;
        }
        DataFrame frame = new DataFrame(false, MessageKind.MESSAGE, 0, 0, 0, decoded.body());
        p.serial.execute(() -> deliver(p, frame, null));
    }

    // ------------------------------------------------------------------ queueing and writing

    private EncodedBody encode(String event, Map<String, String> props, byte[] data) {
        return Wire.encodeBody(event, props, data, config.compressionEnabled(), config.compressionThreshold(),
                config.maxFrameSize());
    }

    /**
     * Queues one frame for {@code p} and makes sure a flush follows if it is connected.
     *
     * @param group told about the acknowledgement of a reliable frame, or null
     * @return null when queued, else why not (closed, peer gone, queue full)
     */
    private Throwable enqueue(PeerLink p, EncodedBody body, boolean reliable, MessageKind kind, long requestId,
                              AckGroup group) {
        Channel flushOn = null;
        synchronized (p) {
            if (closed || !started) {
                return new MessengerClosedException("messenger of node " + self + " is not running");
            }
            if (!p.state.acceptsSends()) {
                return new PeerUnavailableException(p.nodeId, "peer " + p.nodeId
                        + (p.state == PeerState.DEAD ? " is declared dead" : " has left the cluster"));
            }
            int size = Wire.DATA_HEADER + body.bytes().length;
            if (p.pending >= config.maxPendingPerPeer() || p.pendingBytes + size > config.maxPendingBytesPerPeer()) {
                counters.queueFullRejections.increment();
                return new QueueFullException("queue to " + p.nodeId + " is full ("
                        + p.pending + " messages, " + p.pendingBytes + " bytes pending; peer is " + p.state
                        + (p.channel == null ? ", not connected" : ", connected") + ")");
            }
            long seq = reliable ? p.nextSeq++ : 0;
            byte[] header = Wire.dataHeader(body.bytes().length, reliable, body.compressed(), kind,
                    reliable ? p.outEpoch : 0, seq, requestId);
            p.add(new Outgoing(seq, header, body.bytes(), reliable ? group : null, p.nodeId));
            if (p.channel != null && !p.flushScheduled) {
                p.flushScheduled = true;
                flushOn = p.channel;
            }
        }
        counters.sent.increment();
        if (flushOn != null) {
            Channel ch = flushOn;
            ch.eventLoop().execute(() -> flush(p, ch));
        }
        return null;
    }

    /** Writes queued frames while the channel is writable. Runs on the channel's event loop. */
    void flush(PeerLink p, Channel ch) {
        boolean wrote = false;
        synchronized (p) {
            p.flushScheduled = false;
            if (p.channel != ch) {
                return;
            }
            Outgoing o;
            while (ch.isWritable() && (o = p.queued.poll()) != null) {
                if (o.reliable()) {
                    p.inflight.add(o);
                    if (o.written) {
                        counters.retransmitted.increment();
                    }
                    o.written = true;
                } else {
                    p.removed(o);
                }
                ch.write(o.buffer(ch.alloc()), ch.voidPromise());
                wrote = true;
            }
        }
        if (wrote) {
            ch.flush();
        }
    }

    void scheduleFlush(PeerLink p, Channel ch) {
        synchronized (p) {
            if (p.channel != ch || p.flushScheduled || p.queued.isEmpty()) {
                return;
            }
            p.flushScheduled = true;
        }
        ch.eventLoop().execute(() -> flush(p, ch));
    }

    // ------------------------------------------------------------------ connection events (event loop)

    /** A handshake completed on {@code ch} for peer {@code nodeId}; returns the link, or null if refused. */
    PeerLink established(String nodeId, Channel ch, boolean dialed) {
        PeerLink p;
        if (dialed) {
            p = peers.get(nodeId);
        } else {
            p = peers.get(nodeId);
            if (p == null) {
                long unannounced = peers.values().stream().filter(l -> l.state == PeerState.UNANNOUNCED).count();
                if (unannounced >= MAX_UNANNOUNCED_PEERS) {
                    log.warn("refused connection from {}: {} unannounced peers already", nodeId, unannounced);
                    return null;
                }
                p = peers.computeIfAbsent(nodeId, id -> newLink(id, PeerState.UNANNOUNCED));
            }
        }
        if (p == null) {
            return null;
        }
        Channel old;
        synchronized (p) {
            if (closed || cutPeers.contains(nodeId) || p.state == PeerState.LEFT) {
                return null;
            }
            old = p.channel;
            if (old != null) {
                p.requeueInflight();
            }
            p.channel = ch;
            p.dialing = false;
            p.failedDials = 0;
            p.flushScheduled = false;
            p.ackScheduled = false;
            p.readPaused = false;
        }
        counters.connectionsEstablished.increment();
        if (old != null) {
            log.debug("connection to {} replaced by a newer one", nodeId);
            old.close();
        }
        log.debug("node {} connected to {} ({})", self, nodeId, dialed ? "dialed" : "accepted");
        return p;
    }

    /**
     * Starts traffic on a connection that {@link #established} accepted: (re)transmits the queue
     * and acknowledges what was delivered. Called by the stream handler once it knows its link, so
     * a writability change during this first flush is not lost.
     */
    void startTraffic(PeerLink p, Channel ch) {
        flush(p, ch);
        scheduleAck(p);
    }

    /** An established connection closed. */
    void connectionLost(PeerLink p, Channel ch) {
        synchronized (p) {
            if (p.channel != ch) {
                return;
            }
            p.channel = null;
            p.requeueInflight();
            p.flushScheduled = false;
            p.ackScheduled = false;
            p.readPaused = false;
        }
        log.debug("node {} lost connection to {}", self, p.nodeId);
        dialer.scheduleRedial(p);
    }

    /** A dial failed before the handshake completed. */
    void dialFailed(String nodeId) {
        PeerLink p = peers.get(nodeId);
        if (p != null) {
            dialer.failed(p);
        }
    }

    void onAck(PeerLink p, long epoch, long seq) {
        List<Outgoing> done;
        synchronized (p) {
            if (epoch != p.outEpoch) {
                return; // acknowledgement of an abandoned epoch
            }
            if (seq >= p.nextSeq) {
                counters.protocolErrors.increment(); // acknowledges what was never sent: ignore it
                log.warn("peer {} acknowledged seq {} but only {} were sent", p.nodeId, seq, p.nextSeq - 1);
                return;
            }
            done = p.acknowledge(seq);
        }
        if (done.isEmpty()) {
            return;
        }
        counters.acknowledged.add(done.size());
        List<AckGroup> settled = new ArrayList<>();
        for (Outgoing o : done) {
            if (o.ackGroup != null && o.ackGroup.acked()) {
                settled.add(o.ackGroup);
            }
        }
        finishLater(settled);
    }

    /**
     * A DATA frame arrived on {@code ch} from {@code p}. Returns false if the frame breaks the
     * sequence (the caller closes the connection so the sender retransmits from its last ack).
     */
    boolean onData(PeerLink p, Channel ch, DataFrame frame) {
        InboundStream in = null;
        if (frame.reliable()) {
            boolean duplicate = false;
            synchronized (p) {
                in = p.inbound;
                if (in == null || in.epoch != frame.epoch()) {
                    if (p.isRetired(frame.epoch())) {
                        counters.staleDropped.increment();
                        return true;
                    }
                    if (in != null) {
                        p.retire(in.epoch);
                    }
                    // a sender that survived our restart resumes above what our predecessor acknowledged
                    in = new InboundStream(frame.epoch(), frame.seq() - 1);
                    p.inbound = in;
                }
                if (frame.seq() <= in.received) {
                    duplicate = true;
                } else if (frame.seq() > in.received + 1) {
                    log.warn("sequence gap from {}: expected {}, got {}; resetting connection", p.nodeId,
                            in.received + 1, frame.seq());
                    return false;
                } else {
                    in.received = frame.seq();
                }
            }
            if (duplicate) {
                counters.duplicatesDropped.increment();
                scheduleAck(p);
                return true;
            }
        }
        InboundStream stream = in;
        synchronized (p) {
            p.inboundBytes += frame.body().data().length;
        }
        int waiting = p.serial.execute(() -> deliver(p, frame, stream));
        if (waiting < config.inboundHighWater() && !overBytes(p)) {
            return true;
        }
        synchronized (p) {
            // too much waiting for this sender's handlers: stop reading, TCP pushes back on the sender.
            // Re-read the queue size under the lock: afterDelivery resumes under the same lock, so a
            // queue that drained meanwhile is seen here and never leaves reading paused for good.
            if ((p.serial.size() >= config.inboundHighWater() || p.inboundBytes > config.maxPendingBytesPerPeer())
                    && p.channel == ch && !p.readPaused) {
                p.readPaused = true;
                ch.config().setAutoRead(false);
            }
        }
        return true;
    }

    private boolean overBytes(PeerLink p) {
        synchronized (p) {
            return p.inboundBytes > config.maxPendingBytesPerPeer();
        }
    }

    boolean isReadPaused(PeerLink p) {
        synchronized (p) {
            return p.readPaused;
        }
    }

    private void scheduleAck(PeerLink p) {
        Channel ch;
        synchronized (p) {
            if (p.ackScheduled || p.channel == null || p.inbound == null) {
                return;
            }
            p.ackScheduled = true;
            ch = p.channel;
        }
        ch.eventLoop().execute(() -> writeAck(p, ch));
    }

    /** Writes the cumulative ACK of {@code p}'s current inbound stream. Runs on the channel's event loop. */
    private void writeAck(PeerLink p, Channel ch) {
        long epoch;
        long seq;
        synchronized (p) {
            p.ackScheduled = false;
            if (p.channel != ch || p.inbound == null) {
                return;
            }
            epoch = p.inbound.epoch;
            seq = p.inbound.delivered;
        }
        ch.writeAndFlush(Wire.ack(epoch, seq), ch.voidPromise());
    }

    // ------------------------------------------------------------------ delivery (handler threads)

    private void deliver(PeerLink p, DataFrame frame, InboundStream stream) {
        try {
            MessageBody b = frame.body();
            switch (frame.kind()) {
                case REPLY -> completeRequest(p.nodeId, frame.requestId(), b.data(), null);
                case ERROR_REPLY -> completeRequest(p.nodeId, frame.requestId(), null,
                        new RemoteHandlerException(new String(b.data(), StandardCharsets.UTF_8)));
                case MESSAGE, REQUEST -> {
                    ClusterMessage m = new ClusterMessage(b.event(),
                            frame.reliable() ? SendType.RELIABLE : SendType.BEST_EFFORT, false, b.data(), b.props());
                    Delivery d = new Delivery(p.nodeId, m, frame.kind() == MessageKind.REQUEST
                            ? bytes -> reply(p, frame.requestId(), b.event(), MessageKind.REPLY, bytes)
                            : null);
                    runHandler(d, err -> reply(p, frame.requestId(), b.event(), MessageKind.ERROR_REPLY,
                            err.getBytes(StandardCharsets.UTF_8)));
                }
            }
        } finally {
            afterDelivery(p, frame, stream);
        }
    }

    /**
     * Records a delivery and, under one lock acquisition, decides whether an ACK must be scheduled
     * and whether reading from the sender may resume.
     */
    private void afterDelivery(PeerLink p, DataFrame frame, InboundStream stream) {
        Channel ackOn = null;
        Channel resume = null;
        synchronized (p) {
            p.inboundBytes -= frame.body().data().length;
            if (stream != null) {
                if (stream.delivered < frame.seq()) {
                    stream.delivered = frame.seq();
                }
                p.unackedDeliveries++;
            }
            // one cumulative ACK per burst: while more of this sender's messages wait, the last of
            // them acknowledges (or every ACK_EVERY, to keep the sender's queue moving)
            if (p.unackedDeliveries > 0 && (p.serial.size() == 0 || p.unackedDeliveries >= ACK_EVERY)
                    && !p.ackScheduled && p.channel != null && p.inbound != null) {
                p.ackScheduled = true;
                p.unackedDeliveries = 0;
                ackOn = p.channel;
            }
            if (p.readPaused && p.serial.size() <= config.inboundHighWater() / 2
                    && p.inboundBytes <= config.maxPendingBytesPerPeer() / 2) {
                p.readPaused = false;
                resume = p.channel;
            }
        }
        if (ackOn != null) {
            Channel ch = ackOn;
            ch.eventLoop().execute(() -> writeAck(p, ch));
        }
        if (resume != null) {
            resume.config().setAutoRead(true);
        }
    }

    /** Runs the handler for {@code d}; {@code errorReply} answers a request that cannot be handled. */
    private void runHandler(Delivery d, Consumer<String> errorReply) {
        MessageHandler h = handlers.get(d.event());
        counters.delivered.increment();
        if (h == null) {
            counters.unknownEvents.increment();
            log.debug("no handler for event '{}' from {}", d.event(), d.senderId());
            if (d.claimForError()) {
                errorReply.accept("no handler for event '" + d.event() + "' on node " + self);
            }
            return;
        }
        try {
            h.handle(d);
        } catch (Throwable t) {
            counters.handlerFailures.increment();
            log.warn("handler for event '{}' from {} failed", d.event(), d.senderId(), t);
            if (d.claimForError()) {
                errorReply.accept("handler for '" + d.event() + "' on node " + self + " failed: " + t);
            }
        }
    }

    private void reply(PeerLink p, long requestId, String event, MessageKind kind, byte[] data) {
        try {
            EncodedBody body = encode(event, Map.of(), data);
            Throwable failure = enqueue(p, body, true, kind, requestId, null);
            if (failure != null) {
                log.debug("reply to {} for '{}' not sent: {}", p.nodeId, event, failure.getMessage());
            }
        } catch (FrameTooLargeException e) {
            if (kind == MessageKind.REPLY) {
                reply(p, requestId, event, MessageKind.ERROR_REPLY, e.getMessage().getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private void completeRequest(String from, long requestId, byte[] data, Throwable error) {
        if (!requests.complete(from, requestId, data, error)) {
            log.debug("late or unexpected reply {} from {}", requestId, from);
        }
    }

    private CompletableFuture<Void> deliverLocally(ClusterMessage m) {
        if (closed || !started) {
            return CompletableFuture.failedFuture(new MessengerClosedException("messenger of node " + self + " is not running"));
        }
        if (selfSerial.size() >= config.inboundHighWater()) {
            counters.queueFullRejections.increment();
            return CompletableFuture.failedFuture(new QueueFullException("local handler queue of " + self + " is full"));
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        counters.sent.increment();
        selfSerial.execute(() -> {
            runHandler(new Delivery(self, m, null), err -> { });
            callbacks.execute(() -> done.complete(null));
        });
        return m.sendType() == SendType.RELIABLE && m.waitForAllToSend() ? done : CompletableFuture.completedFuture(null);
    }

    private void runLocally(ClusterMessage m, Consumer<byte[]> onReply,
                            Consumer<Throwable> onError) {
        if (selfSerial.size() >= config.inboundHighWater()) {
            counters.queueFullRejections.increment();
            onError.accept(new QueueFullException("local handler queue of " + self + " is full"));
            return;
        }
        selfSerial.execute(() -> runHandler(new Delivery(self, m, onReply),
                err -> onError.accept(new RemoteHandlerException(err))));
    }

    /** Completes settled sends on the callback thread, never on an I/O or handler thread. */
    private void finishLater(List<AckGroup> settled) {
        if (settled.isEmpty()) {
            return;
        }
        Runnable r = () -> settled.forEach(AckGroup::finish);
        try {
            callbacks.execute(r);
        } catch (RejectedExecutionException e) {
            r.run(); // closing: complete on this thread rather than leave futures hanging
        }
    }

    // ------------------------------------------------------------------ dialing

    private PeerLink newLink(String nodeId, PeerState state) {
        return new PeerLink(nodeId, self.compareTo(nodeId) < 0, new SerialExecutor(handlerPool), state);
    }

    // ------------------------------------------------------------------ accessors for StreamHandler

    MessengerConfig config() {
        return config;
    }

    Counters counters() {
        return counters;
    }

    boolean isClosed() {
        return closed;
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

    /** {@link StreamFaults} over this messenger's links. */
    private final class Faults implements StreamFaults {

        @Override
        public void cut(String nodeId) {
            cutPeers.add(nodeId);
            PeerLink p = peers.get(nodeId);
            if (p == null) {
                return;
            }
            Channel ch;
            synchronized (p) {
                ch = p.channel;
                if (p.reconnect != null) {
                    p.reconnect.cancel(false);
                    p.reconnect = null;
                }
            }
            if (ch != null) {
                StreamHandler.reset(ch);
            }
            log.info("fault injection: node {} cut its connection to {}", self, nodeId);
        }

        @Override
        public void restore(String nodeId) {
            cutPeers.remove(nodeId);
            PeerLink p = peers.get(nodeId);
            if (p == null) {
                return;
            }
            synchronized (p) {
                p.failedDials = 0;
            }
            log.info("fault injection: node {} restored its connection to {}", self, nodeId);
            dialer.dial(p);
        }

        @Override
        public boolean isCut(String nodeId) {
            return cutPeers.contains(nodeId);
        }
    }
}
