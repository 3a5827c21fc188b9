package io.hacluster.metrics;

import io.hacluster.ClusterMember;
import io.hacluster.ClusterNode;
import io.hacluster.MembershipState;
import io.hacluster.db.DatabaseRouter;
import io.hacluster.db.PoolMetrics;
import io.hacluster.db.RouterMetrics;
import io.hacluster.db.ServerState;
import io.hacluster.db.ServerStatus;
import io.hacluster.election.LeaderInfo;
import io.hacluster.gossip.GossipStats;
import io.hacluster.jobs.JobServer;
import io.hacluster.jobs.JobServerStats;
import io.hacluster.messaging.Messenger;
import io.hacluster.messaging.MessengerStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer meters of one {@link ClusterNode}: gossip, messaging, election, jobs and the
 * database router, tagged {@code cluster} and {@code node}. Bind it once the node has started:
 *
 * <pre>{@code
 * new ClusterNodeMetrics(node).bindTo(registry);
 * }</pre>
 *
 * <p>Meters read the node when the registry asks (a scrape), from snapshots that cost no
 * database query except the router's, which is cached for {@value #ROUTER_SNAPSHOT_MILLIS} ms.
 * The exceptions are the timers (send-to-acknowledgement, handler time, lease renewal), which the
 * node feeds as things happen through {@code Messenger.observe} and
 * {@code ClusterNode.onLeaseRenewLatency} (one binder per node: a second replaces the first's
 * timers), and {@code ha.clock.offset}, registered per peer when its first sample arrives.
 * A meter whose source is gone (the node closed) reads NaN. docs/operations-metrics.md lists
 * every meter; micrometer-core is an optional dependency of ha-core, used only here.
 */
public final class ClusterNodeMetrics implements MeterBinder {

    static final long ROUTER_SNAPSHOT_MILLIS = 1000;
    /** The causes docs/election.md names; others (the election's own) appear when they happen. */
    static final List<String> TRANSITION_CAUSES = List.of("start", "crash", "leave", "takeover", "lease lost",
            "quorum lost");

    private final ClusterNode node;
    private final Map<String, Counter> transitions = new ConcurrentHashMap<>();
    /**
     * Micrometer holds a function counter's source weakly; these strong references keep the
     * sources alive as long as this binder, which the gauges' lambdas keep alive in the registry.
     */
    private final List<Object> sources = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final CachedValue<RouterMetrics> router;

    public ClusterNodeMetrics(ClusterNode node) {
        this.node = Objects.requireNonNull(node, "node");
        this.router = new CachedValue<>(ROUTER_SNAPSHOT_MILLIS, () -> {
            DatabaseRouter r = node.database().orElse(null);
            try {
                return r == null ? null : r.metrics();
            } catch (java.sql.SQLException e) {
                return null;
            }
        });
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Tags tags = Tags.of(Tag.of("cluster", node.clusterName()), Tag.of("node", node.id()));
        bindGossip(registry, tags);
        bindMessaging(registry, tags);
        bindElection(registry, tags);
        bindJobs(registry, tags);
        bindRouter(registry, tags);
    }

    private void bindGossip(MeterRegistry registry, Tags tags) {
        for (MembershipState state : MembershipState.values()) {
            gauge(registry, "ha.gossip.members", "members in this node's view, by state", tags.and("state",
                    state.name().toLowerCase(java.util.Locale.ROOT)), () -> countMembers(state));
        }
        gauge(registry, "ha.gossip.health.score", "Lifeguard's local health score: 0 is healthy", tags,
                node::healthScore);
        counter(registry, "ha.gossip.packets.received", tags, () -> gossip().packetsReceived());
        counter(registry, "ha.gossip.packets.sent", tags, () -> gossip().packetsSent());
        counter(registry, "ha.gossip.streams.received", tags, () -> gossip().streamsReceived());
        counter(registry, "ha.gossip.streams.sent", tags, () -> gossip().streamsSent());
        counter(registry, "ha.gossip.dropped", tags.and("reason", "malformed"), () -> gossip().malformedDropped());
        counter(registry, "ha.gossip.dropped", tags.and("reason", "label"), () -> gossip().labelDropped());
        counter(registry, "ha.gossip.dropped", tags.and("reason", "rejected"), () -> gossip().rejectedDropped());
        counter(registry, "ha.gossip.dropped", tags.and("reason", "overload"), () -> gossip().overloadDropped());
        counter(registry, "ha.gossip.probes", tags, () -> gossip().probes());
        counter(registry, "ha.gossip.probes.failed", tags, () -> gossip().probesFailed());
        counter(registry, "ha.gossip.suspicions", tags, () -> gossip().suspicions());
        counter(registry, "ha.gossip.refutations", tags, () -> gossip().refutations());
        counter(registry, "ha.gossip.bytes.received", tags, () -> gossip().bytesReceived());
        counter(registry, "ha.gossip.bytes.sent", tags, () -> gossip().bytesSent());
        counter(registry, "ha.gossip.crash.probes", tags.and("outcome", "dead"), () -> gossip().fastPathDeaths());
        counter(registry, "ha.gossip.crash.probes", tags.and("outcome", "aborted"), () -> gossip().fastPathAborts());
        counter(registry, "ha.gossip.dropped", tags.and("reason", "encryption"), () -> gossip().encryptionDropped());
        counter(registry, "ha.gossip.members.refused", tags, () -> gossip().membersRefused());
    }

    private void bindMessaging(MeterRegistry registry, Tags tags) {
        counter(registry, "ha.messaging.sent", tags, () -> messaging().sent());
        counter(registry, "ha.messaging.delivered", tags, () -> messaging().delivered());
        counter(registry, "ha.messaging.acknowledged", tags, () -> messaging().acknowledged());
        counter(registry, "ha.messaging.retransmitted", tags, () -> messaging().retransmitted());
        counter(registry, "ha.messaging.dropped", tags.and("reason", "duplicate"), () -> messaging().duplicatesDropped());
        counter(registry, "ha.messaging.dropped", tags.and("reason", "stale"), () -> messaging().staleDropped());
        counter(registry, "ha.messaging.dropped", tags.and("reason", "unknown_event"), () -> messaging().unknownEvents());
        counter(registry, "ha.messaging.dropped", tags.and("reason", "best_effort"), () -> messaging().bestEffortDropped());
        counter(registry, "ha.messaging.dropped", tags.and("reason", "drain"), () -> messaging().drainDropped());
        counter(registry, "ha.messaging.failures", tags.and("cause", "handler"), () -> messaging().handlerFailures());
        counter(registry, "ha.messaging.failures", tags.and("cause", "queue_full"), () -> messaging().queueFullRejections());
        counter(registry, "ha.messaging.failures", tags.and("cause", "timeout"), () -> messaging().sendTimeouts());
        counter(registry, "ha.messaging.failures", tags.and("cause", "protocol"), () -> messaging().protocolErrors());
        counter(registry, "ha.messaging.failures", tags.and("cause", "oversize"), () -> messaging().oversizeFrames());
        counter(registry, "ha.messaging.failures", tags.and("cause", "handshake"), () -> messaging().handshakeRejections());
        counter(registry, "ha.messaging.failures", tags.and("cause", "handshake_overflow"),
                () -> messaging().handshakeOverflows());
        counter(registry, "ha.messaging.connections.opened", tags, () -> messaging().connectionsEstablished());
        counter(registry, "ha.messaging.connections.closed", tags.and("cause", "any"), () -> messaging().connectionsClosed());
        counter(registry, "ha.messaging.connections.closed", tags.and("cause", "idle"), () -> messaging().idleCloses());
        counter(registry, "ha.messaging.connections.closed", tags.and("cause", "write_stall"),
                () -> messaging().writeStallCloses());
        gauge(registry, "ha.messaging.queue.depth", "reliable messages waiting for an acknowledgement, all peers", tags,
                this::queueDepth);
        gauge(registry, "ha.messaging.peers.connected", "peers with an open streaming connection", tags,
                () -> node.messenger().connectedPeers().size());
        LatencyTimers timers = new LatencyTimers(registry, tags);
        sources.add(timers);
        node.messenger().observe(timers);
        bindClock(registry, tags);
    }

    private void bindClock(MeterRegistry registry, Tags tags) {
        Messenger messenger = node.messenger();
        Set<String> bound = ConcurrentHashMap.newKeySet();
        java.util.function.Consumer<String> bindPeer = peer -> {
            if (bound.add(peer)) {
                TimeGauge.builder("ha.clock.offset", () -> clockOffset(messenger, peer), TimeUnit.MILLISECONDS)
                        .description("the peer's wall clock minus this node's, from the minimum-delay round trip; "
                                + "NaN without a recent sample")
                        .tags(tags.and("peer", peer)).register(registry);
            }
        };
        sources.add(bindPeer);
        messenger.onClockPeer(bindPeer);
        messenger.clockOffsets().keySet().forEach(bindPeer);
        counter(registry, "ha.clock.samples", tags.and("outcome", "accepted"), () -> messenger.clockProbeStats().samples());
        counter(registry, "ha.clock.samples", tags.and("outcome", "rejected"), () -> messenger.clockProbeStats().rejected());
    }

    private static double clockOffset(Messenger messenger, String peer) {
        io.hacluster.ClockOffset o = messenger.clockOffset(peer);
        return o == null ? Double.NaN : o.offsetMillis();
    }

    private void bindElection(MeterRegistry registry, Tags tags) {
        gauge(registry, "ha.election.leader", "1 while this node leads (with the lease, if any)", tags,
                () -> node.isLeader() ? 1 : 0);
        gauge(registry, "ha.election.epoch", "the leader's epoch as this node knows it; NaN without a leader", tags,
                () -> node.leader().map(LeaderInfo::epoch).map(Long::doubleValue).orElse(Double.NaN));
        gauge(registry, "ha.election.fencing.token", "the leader's fencing token; NaN without a leader", tags,
                () -> node.leader().map(LeaderInfo::fencingToken).map(Long::doubleValue).orElse(Double.NaN));
        for (String cause : TRANSITION_CAUSES) {  // present at zero, so a dashboard query has a series from the start
            transition(registry, tags, cause);
        }
        node.onLeaderChange(change -> transition(registry, tags, change.cause()).increment());
        if (node.database().isPresent()) {  // the lease lives in the database
            Timer renew = LatencyTimers.histogram("ha.election.lease.renew",
                    "round trip of a lease renewal the database answered", tags)
                    .publishPercentiles(0.5, 0.99)  // a few renewals a second: client-side percentiles cost nothing here
                    .register(registry);
            node.onLeaseRenewLatency(nanos -> renew.record(nanos, TimeUnit.NANOSECONDS));
        }
    }

    private Counter transition(MeterRegistry registry, Tags tags, String cause) {
        return transitions.computeIfAbsent(cause, c -> Counter.builder("ha.election.transitions")
                .description("changes of the leader or of this node's leadership").tags(tags.and("cause", c))
                .register(registry));
    }

    private void bindJobs(MeterRegistry registry, Tags tags) {
        if (node.database().isEmpty()) {
            return;  // no job server without a database
        }
        gauge(registry, "ha.jobs.running", "jobs running on this node", tags, () -> jobs().running());
        counter(registry, "ha.jobs.claimed", tags, () -> jobs().claimed());
        counter(registry, "ha.jobs.attempts", tags.and("outcome", "success"), () -> jobs().succeeded());
        counter(registry, "ha.jobs.attempts", tags.and("outcome", "failed"), () -> jobs().failed());
        counter(registry, "ha.jobs.attempts", tags.and("outcome", "canceled"), () -> jobs().canceled());
        counter(registry, "ha.jobs.attempts", tags.and("outcome", "claim_lost"), () -> jobs().claimsLost());
        counter(registry, "ha.jobs.errored", tags, () -> jobs().errored());
        counter(registry, "ha.jobs.handed.back", tags, () -> jobs().handedBack());
        counter(registry, "ha.jobs.reaped", tags, () -> jobs().reaped());
        counter(registry, "ha.jobs.slots", tags, () -> jobs().slotsCreated());
        counter(registry, "ha.jobs.misfires", tags, () -> jobs().missedSlotsCreated());
    }

    private void bindRouter(MeterRegistry registry, Tags tags) {
        RouterMetrics now = router.get();
        if (now == null) {
            return;
        }
        for (ServerStatus server : now.servers()) {
            Tags t = tags.and("server", server.server(), "tier", server.tier().name().toLowerCase(java.util.Locale.ROOT));
            for (ServerState state : ServerState.values()) {
                gauge(registry, "ha.db.server.state", "1 for the state the server is in", t.and("state",
                        state.name().toLowerCase(java.util.Locale.ROOT)),
                        () -> server(server.server()).map(s -> s.state() == state ? 1.0 : 0.0).orElse(Double.NaN));
            }
            gauge(registry, "ha.db.replica.lag.bytes", "replay lag behind the master", t,
                    () -> server(server.server()).map(s -> (double) s.lagBytes()).orElse(Double.NaN));
            gauge(registry, "ha.db.replica.lag.ms", "replay lag behind the master, time", t,
                    () -> server(server.server()).map(s -> (double) s.lagMillis()).orElse(Double.NaN));
        }
        for (PoolMetrics pool : now.pools()) {
            Tags t = tags.and("pool", pool.pool(), "tier", pool.tier().name().toLowerCase(java.util.Locale.ROOT));
            gauge(registry, "ha.db.pool.active", "connections in use", t, () -> pool(pool.pool(), PoolMetrics::active));
            gauge(registry, "ha.db.pool.idle", "idle connections", t, () -> pool(pool.pool(), PoolMetrics::idle));
            gauge(registry, "ha.db.pool.waiting", "threads waiting for a connection", t,
                    () -> pool(pool.pool(), PoolMetrics::waiting));
        }
        counter(registry, "ha.db.fallbacks", tags.and("kind", "replica"), () -> router().replicaFallbacks());
        counter(registry, "ha.db.fallbacks", tags.and("kind", "search"), () -> router().searchFallbacks());
        counter(registry, "ha.db.fallbacks", tags.and("kind", "token"), () -> router().tokenFallbacks());
        counter(registry, "ha.db.read.retries", tags, () -> router().readRetries());
        counter(registry, "ha.db.evictions", tags, () -> router().evictions());
        counter(registry, "ha.db.marked.down", tags, () -> router().markedDown());
        gauge(registry, "ha.db.locked.to.master", "1 while replica reads are forced to the master", tags,
                () -> router().lockedToMaster() ? 1 : 0);
    }

    // ---------------------------------------------------------------- sources

    private GossipStats gossip() {
        return node.gossipStats();
    }

    private MessengerStats messaging() {
        return node.messenger().stats();
    }

    private JobServerStats jobs() {
        JobServer jobs = node.jobs();
        return jobs.stats();
    }

    private RouterMetrics router() {
        RouterMetrics m = router.get();
        if (m == null) {
            throw new IllegalStateException("no router snapshot");
        }
        return m;
    }

    private java.util.Optional<ServerStatus> server(String name) {
        RouterMetrics m = router.get();
        return m == null ? java.util.Optional.empty()
                : m.servers().stream().filter(s -> s.server().equals(name)).findFirst();
    }

    private double pool(String name, ToDoubleFunction<PoolMetrics> value) {
        RouterMetrics m = router.get();
        return m == null ? Double.NaN : m.pools().stream().filter(p -> p.pool().equals(name)).findFirst()
                .map(value::applyAsDouble).orElse(Double.NaN);
    }

    private double countMembers(MembershipState state) {
        List<ClusterMember> members = node.members();
        return members.stream().filter(m -> m.state() == state).count();
    }

    private double queueDepth() {
        long total = 0;
        for (ClusterMember m : node.members()) {
            if (!m.local()) {
                total += node.messenger().pendingCount(m.id());
            }
        }
        return total;
    }

    // ---------------------------------------------------------------- registration

    private void gauge(MeterRegistry registry, String name, String description, Tags tags,
                       Supplier<? extends Number> value) {
        sources.add(value);
        Gauge.builder(name, () -> safely(value)).description(description).tags(tags).register(registry);
    }

    private void counter(MeterRegistry registry, String name, Tags tags, Supplier<? extends Number> value) {
        sources.add(value);
        FunctionCounter.builder(name, value, v -> safely(v)).tags(tags).register(registry);
    }

    /** A source that is gone (the node closed, the router not yet checked) reads NaN, never throws into a scrape. */
    private static double safely(Supplier<? extends Number> value) {
        try {
            Number n = value.get();
            return n == null ? Double.NaN : n.doubleValue();
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }
}
