package io.hacluster.gossip;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * One member of a gossip cluster that speaks HashiCorp memberlist's protocol: SWIM failure
 * detection with Lifeguard's extensions, piggybacked broadcasts and push/pull anti-entropy.
 * Java nodes, Go memberlist nodes and serf agents can share one ring.
 *
 * <p>Create with {@link #builder(GossipConfig)}; {@link Builder#build()} starts the node at once
 * (alive, probing, gossiping) as memberlist's {@code Create} does. Then {@link #join} seeds.
 *
 * <p>Threading: the state machine runs on the {@link Scheduler}'s single thread. Every public
 * method is thread-safe and non-blocking; operations that wait for the network return a
 * {@link CompletableFuture} that completes on the scheduler's thread, so never block on one
 * from inside a listener. Listeners are called on the scheduler's thread, in order, and a
 * {@link MembershipListener} hears of each change before {@link #members()} shows it.
 */
public final class Memberlist implements AutoCloseable {

    private final GossipConfig config;
    private final Transport transport;
    private final Scheduler scheduler;
    private final SingleThreadScheduler ownedScheduler;
    private final GossipCore core;
    private final WireCodec codec;
    private volatile boolean closed;

    /** The largest UDP payload over IPv4 (65,535 less the IP and UDP headers). */
    static final int MAX_DATAGRAM_PAYLOAD = 65_507;

    private Memberlist(Builder b, Scheduler scheduler, SingleThreadScheduler ownedScheduler) {
        this.config = b.config;
        this.transport = b.transport;
        this.scheduler = scheduler;
        this.ownedScheduler = ownedScheduler;
        this.codec = WireCodec.forConfig(config);
        this.core = new GossipCore(config, transport, scheduler, codec,
                b.random != null ? b.random : new Random(),
                new GossipCore.Listeners(b.membership, b.messages, b.metadata, b.state, b.aliveFilter, b.conflicts));
    }

    /** A builder for a node with {@code config}; a transport is required. */
    public static Builder builder(GossipConfig config) {
        return new Builder(config);
    }

    /** Creates and starts a node without listeners. */
    public static Memberlist create(GossipConfig config, Transport transport, Scheduler scheduler) {
        return builder(config).transport(transport).scheduler(scheduler).build();
    }

    private void start(byte[] meta) {
        core.prepublishLocal(meta);
        scheduler.execute(() -> core.start(meta));
        transport.start(core);
    }

    /**
     * Joins the cluster through {@code seeds}: a full push/pull state exchange with each (as
     * memberlist's {@code Join}). Completes with the number of seeds that answered, or fails
     * with {@link GossipException} when none did. Joining more seeds than one is tolerated and
     * usual; seeds that are down only lower the count.
     */
    public CompletableFuture<Integer> join(Collection<InetSocketAddress> seeds) {
        List<InetSocketAddress> list = new ArrayList<>(seeds);
        return onScheduler(() -> core.join(list));
    }

    /**
     * Probes {@code node} at once, out of the round robin, because its user has hard evidence
     * that the process crashed (in ha-cluster: its streaming connection was reset, or ended
     * without a goodbye). It pings the node directly, over TCP and through up to
     * {@code indirectChecks} peers, all at once, and connects to its gossip port and to each of
     * {@code alsoRefused} (other ports of the same process). Only when <b>every</b> connect is
     * refused ({@link ConnectOutcome#REFUSED}: the host is up and nothing listens) and no ack
     * comes by any path (every indirect peer nacked, or a probe interval passed) is the node
     * declared dead, at once, through the ordinary dead message, which memberlist and serf peers
     * accept as any other ({@link GossipStats#fastPathDeaths()}). An ack, or a connect that is
     * accepted (a stalled process keeps its sockets) or times out (a lost host, a partition),
     * changes nothing: the ordinary probe and suspicion path decides in its ordinary time
     * ({@link GossipStats#fastPathAborts()}).
     *
     * <p>At most one such probe per node runs (a second call joins it), at most one per node per
     * probe interval, and at most 16 at once; anything else yields {@link CrashProbeResult#SKIPPED},
     * as does a node that is unknown, this node, already dead or left, or a configuration with
     * {@link GossipConfig#fastCrashDetection()} off.
     *
     * @param node        the member's name
     * @param alsoRefused other addresses of that process that must refuse connections too (may be empty)
     * @return how the probe ended, on the scheduler's thread
     */
    public CompletableFuture<CrashProbeResult> probeCrash(String node, Collection<InetSocketAddress> alsoRefused) {
        Objects.requireNonNull(node, "node");
        List<InetSocketAddress> extra = List.copyOf(alsoRefused);
        return onScheduler(() -> core.crashProbes().probe(node, extra));
    }

    /**
     * Leaves gracefully: broadcasts a dead message about ourselves with From equal to our name,
     * which peers record as {@link MemberState#LEFT}. Completes once the broadcast has been sent
     * its full number of times (or at once when no other node is alive); fails with a
     * {@link java.util.concurrent.TimeoutException} after {@code timeout}. Call
     * {@link #shutdown()} afterwards.
     */
    public CompletableFuture<Void> leave(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        return onScheduler(() -> core.leave(timeout));
    }

    /**
     * Stops probing, gossiping and answering, and closes the transport (and the scheduler when
     * the builder created it). Sends nothing: without {@link #leave} first, peers will detect
     * this node as failed. Idempotent.
     */
    public void shutdown() {
        if (closed) {
            return;
        }
        closed = true;
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        scheduler.execute(() -> {
            core.stop();
            stopped.complete(null);
        });
        if (ownedScheduler != null && !ownedScheduler.isCurrentThread()) {
            try {
                stopped.get(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                // the scheduler thread is stuck or gone; closing it below ends it anyway
            }
        }
        transport.close();
        if (ownedScheduler != null) {
            ownedScheduler.close();
        }
    }

    /** Same as {@link #shutdown()}. */
    @Override
    public void close() {
        shutdown();
    }

    /**
     * Every member this node knows, in any state: alive, suspect, and dead or left members
     * until they are forgotten (GossipToTheDeadTime after they went, at the next probe pass).
     * Includes the local member. A snapshot; order unspecified.
     */
    public List<Member> members() {
        return core.members();
    }

    /** Members alive or suspect, the local member included. */
    public List<Member> liveMembers() {
        List<Member> out = new ArrayList<>();
        for (Member m : core.members()) {
            if (m.isLive()) {
                out.add(m);
            }
        }
        return out;
    }

    /** The named member, or null when unknown or forgotten. */
    public Member member(String name) {
        return core.member(name);
    }

    /** The local member as the local node advertises it; null only before the node started. */
    public Member localMember() {
        return core.member(config.name());
    }

    /** Members alive or suspect, the local member included (memberlist's NumMembers). */
    public int numMembers() {
        return core.numLiveMembers();
    }

    /**
     * The largest payload {@link #sendBestEffort} accepts: what fits one UDP datagram (65,507
     * bytes, the IPv4 maximum) after the user-message type byte and the packet wrappers (label,
     * CRC, encryption). memberlist's {@code SendBestEffort} checks no size and sends what the
     * socket takes, and its receivers read into a 64 KiB buffer, so this is what Go peers send
     * and accept. A datagram above the path MTU is fragmented by IP and is lost whole if any
     * fragment is: prefer payloads within UDPBufferSize where loss matters.
     */
    public int maxBestEffortPayload() {
        return MAX_DATAGRAM_PAYLOAD - 1 - codec.packetOverhead();
    }

    /**
     * Sends {@code payload} to {@code to} in one UDP packet, without acknowledgement or retry
     * (memberlist's {@code SendBestEffort}).
     *
     * @throws IllegalArgumentException when the payload exceeds {@link #maxBestEffortPayload()}
     */
    public void sendBestEffort(Member to, byte[] payload) {
        Objects.requireNonNull(to, "to");
        int limit = maxBestEffortPayload();
        if (payload.length > limit) {
            throw new IllegalArgumentException("payload of " + payload.length + " bytes exceeds the " + limit
                    + " bytes one UDP datagram can carry");
        }
        byte[] copy = payload.clone();
        scheduler.execute(() -> core.sendUserPacket(to, copy));
    }

    /**
     * Sends {@code payload} to {@code to} over a new TCP stream (memberlist's
     * {@code SendReliable}). Completes when the stream write succeeded; as in memberlist there
     * is no application-level acknowledgement. Fails after TCPTimeout.
     *
     * @throws IllegalArgumentException when the payload exceeds 20 MiB
     */
    public CompletableFuture<Void> sendReliable(Member to, byte[] payload) {
        Objects.requireNonNull(to, "to");
        if (payload.length > io.hacluster.gossip.wire.WireLimits.DEFAULT.maxUserMessageBytes()) {
            throw new IllegalArgumentException("payload exceeds 20 MiB");
        }
        byte[] copy = payload.clone();
        return onScheduler(() -> core.sendUserStream(to, copy));
    }

    /**
     * Replaces the local metadata and re-advertises it with a new incarnation (memberlist's
     * {@code UpdateNode}). Completes once the alive broadcast has been sent its full number of
     * times, or fails with a {@link java.util.concurrent.TimeoutException} after
     * {@code timeout} (the update still propagates).
     *
     * @throws IllegalArgumentException when {@code meta} exceeds 512 bytes
     */
    public CompletableFuture<Void> updateMeta(byte[] meta, Duration timeout) {
        byte[] copy = checkMeta(meta);
        return onScheduler(() -> core.updateMeta(copy, timeout));
    }

    /**
     * Lifeguard's local health score (memberlist's {@code GetHealthScore}): 0 is healthy;
     * higher values mean this node recently missed nacks or had to refute suspicions, and its
     * probe interval is multiplied by score + 1.
     */
    public int healthScore() {
        return core.healthScore();
    }

    /** Traffic and drop counters. */
    public GossipStats stats() {
        return core.stats();
    }

    /** This node's configuration. */
    public GossipConfig config() {
        return config;
    }

    /** The address peers reach this node at. */
    public InetSocketAddress advertiseAddress() {
        return transport.advertiseAddress();
    }

    private <T> CompletableFuture<T> onScheduler(Supplier<CompletableFuture<T>> op) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new IllegalStateException("memberlist is shut down"));
            return result;
        }
        scheduler.execute(() -> {
            if (core.isShutdown()) {
                result.completeExceptionally(new IllegalStateException("memberlist is shut down"));
                return;
            }
            try {
                op.get().whenComplete((v, e) -> {
                    if (e != null) {
                        result.completeExceptionally(e);
                    } else {
                        result.complete(v);
                    }
                });
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    private static byte[] checkMeta(byte[] meta) {
        byte[] copy = meta == null ? new byte[0] : meta.clone();
        if (copy.length > GossipConfig.META_MAX_SIZE) {
            throw new IllegalArgumentException("node metadata is " + copy.length + " bytes; the limit is "
                    + GossipConfig.META_MAX_SIZE);
        }
        return copy;
    }

    /** Collects the transport, scheduler and listeners of a node, then starts it. */
    public static final class Builder {
        private final GossipConfig config;
        private Transport transport;
        private Scheduler scheduler;
        private MembershipListener membership;
        private MessageListener messages;
        private MetadataProvider metadata;
        private StateDelegate state;
        private AliveFilter aliveFilter;
        private ConflictListener conflicts;
        private Random random;
        private boolean netty;

        private Builder(GossipConfig config) {
            this.config = Objects.requireNonNull(config, "config");
        }

        /**
         * How bytes move: a {@code NettyTransport}, or a {@link SimulatedNetwork} node's
         * transport. Required unless {@link #nettyTransport()} is used. The node closes it on
         * shutdown.
         */
        public Builder transport(Transport t) { transport = t; return this; }

        /**
         * Binds a {@link io.hacluster.gossip.netty.NettyTransport} (UDP and TCP on the
         * configuration's bind host and port) when {@link #build()} runs.
         */
        public Builder nettyTransport() { netty = true; return this; }

        /**
         * The state machine's thread and clock. Default: a {@link SingleThreadScheduler} named
         * {@code ha-<name>-gossip}, owned and closed by the node.
         */
        public Builder scheduler(Scheduler s) { scheduler = s; return this; }

        /** Join, leave and update events. */
        public Builder membershipListener(MembershipListener l) { membership = l; return this; }

        /** User messages from {@link #sendBestEffort} and {@link #sendReliable} of peers. */
        public Builder messageListener(MessageListener l) { messages = l; return this; }

        /** Initial node metadata (at most 512 bytes). */
        public Builder metadataProvider(MetadataProvider p) { metadata = p; return this; }

        /** Application state exchanged during push/pull. */
        public Builder stateDelegate(StateDelegate d) { state = d; return this; }

        /** Vets peers before they join the local view. */
        public Builder aliveFilter(AliveFilter f) { aliveFilter = f; return this; }

        /** Told about name clashes. */
        public Builder conflictListener(ConflictListener l) { conflicts = l; return this; }

        /** Randomness for probe order, peer choice and staggering; seed it for reproducible runs. */
        public Builder random(Random r) { random = r; return this; }

        /**
         * Creates the node and starts it: the local member is alive and the probe, gossip and
         * push/pull timers run; {@link #localMember()} is available at once.
         *
         * @throws IllegalArgumentException when the metadata exceeds 512 bytes
         * @throws NullPointerException     when no transport was given
         */
        public Memberlist build() {
            byte[] meta = checkMeta(metadata == null ? new byte[0] : metadata.localMeta(GossipConfig.META_MAX_SIZE));
            if (transport == null && netty) {
                transport = io.hacluster.gossip.netty.NettyTransport.bind(config);
            }
            Objects.requireNonNull(transport, "transport (or nettyTransport())");
            SingleThreadScheduler owned = null;
            Scheduler s = scheduler;
            if (s == null) {
                owned = new SingleThreadScheduler(config.name());
                s = owned;
            }
            Memberlist m = new Memberlist(this, s, owned);
            m.start(meta);
            return m;
        }
    }
}
