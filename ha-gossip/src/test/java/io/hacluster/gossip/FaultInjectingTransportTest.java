package io.hacluster.gossip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The gossip fault seam: per-peer blocks in both directions, isolation, heal and the drop
 * counters, first against a recording transport, then with memberlist nodes on
 * {@link SimulatedNetwork} (a partition of two groups, configured on one side only, and its heal).
 */
class FaultInjectingTransportTest {

    private static final InetSocketAddress SELF = new InetSocketAddress("127.0.0.1", 7000);
    private static final InetSocketAddress A = new InetSocketAddress("127.0.0.1", 7001);
    private static final InetSocketAddress B = new InetSocketAddress("127.0.0.1", 7002);

    /** Records what reaches the wire and lets the test play the network's inbound side. */
    private static final class Recording implements Transport {
        final List<InetSocketAddress> packetsSent = new ArrayList<>();
        final List<InetSocketAddress> streamsSent = new ArrayList<>();
        Inbound inbound;
        boolean closed;

        @Override
        public void start(Inbound in) {
            inbound = in;
        }

        @Override
        public InetSocketAddress advertiseAddress() {
            return SELF;
        }

        @Override
        public synchronized void sendPacket(InetSocketAddress to, byte[] packet) {
            packetsSent.add(to);
        }

        @Override
        public synchronized CompletableFuture<byte[]> exchange(InetSocketAddress to, byte[] request,
                                                               boolean expectReply, Duration timeout) {
            streamsSent.add(to);
            return CompletableFuture.completedFuture(new byte[] {42});
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** The node's side: what the wrapper delivers. */
    private static final class Received implements Transport.Inbound {
        final List<InetSocketAddress> packets = new ArrayList<>();
        final List<InetSocketAddress> streams = new ArrayList<>();

        @Override
        public synchronized void onPacket(InetSocketAddress from, byte[] packet, long receivedAtNanos) {
            packets.add(from);
        }

        @Override
        public synchronized CompletableFuture<byte[]> onStream(InetSocketAddress from, byte[] message) {
            streams.add(from);
            return CompletableFuture.completedFuture(new byte[] {7});
        }
    }

    private static final byte[] PAYLOAD = {1, 2, 3};

    @Test
    void aBlockedPeerIsCutInBothDirectionsAndOthersAreNot() throws Exception {
        Recording wire = new Recording();
        Received node = new Received();
        FaultInjectingTransport t = FaultInjectingTransport.wrap(wire);
        t.start(node);
        t.block(A);
        assertThat(t.isBlocked(A)).isTrue();
        assertThat(t.isBlocked(B)).isFalse();
        assertThat(t.blocked()).containsExactly(A);

        t.sendPacket(A, PAYLOAD);
        t.sendPacket(B, PAYLOAD);
        CompletableFuture<byte[]> toA = t.exchange(A, PAYLOAD, true, Duration.ofSeconds(1));
        CompletableFuture<byte[]> toB = t.exchange(B, PAYLOAD, true, Duration.ofSeconds(1));
        wire.inbound.onPacket(A, PAYLOAD, 0);
        wire.inbound.onPacket(B, PAYLOAD, 0);
        CompletableFuture<byte[]> fromA = wire.inbound.onStream(A, PAYLOAD);
        CompletableFuture<byte[]> fromB = wire.inbound.onStream(B, PAYLOAD);

        assertThat(wire.packetsSent).containsExactly(B);
        assertThat(wire.streamsSent).containsExactly(B);
        assertThatThrownBy(toA::get).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ConnectException.class);
        assertThat(toB.get()).containsExactly(42);
        assertThat(node.packets).containsExactly(B);
        assertThat(node.streams).containsExactly(B);
        assertThat(fromA.get()).as("closed without a reply").isNull();
        assertThat(fromB.get()).containsExactly(7);
        assertThat(t.drops()).isEqualTo(new GossipFaults.Drops(1, 1, 1, 1));
        assertThat(t.drops().total()).isEqualTo(4);

        t.unblock(A);
        assertThat(t.isBlocked(A)).isFalse();
        assertThat(t.blocked()).isEmpty();
        t.sendPacket(A, PAYLOAD);
        wire.inbound.onPacket(A, PAYLOAD, 0);
        assertThat(t.exchange(A, PAYLOAD, true, Duration.ofSeconds(1)).get()).containsExactly(42);
        assertThat(wire.packetsSent).containsExactly(B, A);
        assertThat(node.packets).containsExactly(B, A);
        assertThat(t.drops().total()).as("nothing more dropped once unblocked").isEqualTo(4);
    }

    @Test
    void isolationDropsEverythingAndKeepsTheBlocksWhenItEnds() throws Exception {
        Recording wire = new Recording();
        Received node = new Received();
        FaultInjectingTransport t = FaultInjectingTransport.wrap(wire);
        t.start(node);
        t.block(A);
        t.isolate();
        assertThat(t.isIsolated()).isTrue();
        t.sendPacket(B, PAYLOAD);
        wire.inbound.onPacket(B, PAYLOAD, 0);
        assertThat(wire.inbound.onStream(B, PAYLOAD).get()).isNull();
        assertThat(t.exchange(B, PAYLOAD, false, Duration.ofSeconds(1))).isCompletedExceptionally();
        assertThat(wire.packetsSent).isEmpty();
        assertThat(wire.streamsSent).isEmpty();
        assertThat(node.packets).isEmpty();
        assertThat(node.streams).isEmpty();
        assertThat(t.drops()).isEqualTo(new GossipFaults.Drops(1, 1, 1, 1));

        t.endIsolation();
        assertThat(t.isIsolated()).isFalse();
        assertThat(t.isBlocked(A)).as("the block outlives the isolation").isTrue();
        t.sendPacket(B, PAYLOAD);
        t.sendPacket(A, PAYLOAD);
        assertThat(wire.packetsSent).containsExactly(B);

        t.isolate();
        t.heal();
        assertThat(t.isIsolated()).isFalse();
        assertThat(t.blocked()).isEmpty();
        t.sendPacket(A, PAYLOAD);
        wire.inbound.onPacket(A, PAYLOAD, 0);
        assertThat(wire.packetsSent).containsExactly(B, A);
        assertThat(node.packets).containsExactly(A);
        assertThat(t.advertiseAddress()).isEqualTo(SELF);
        t.close();
        assertThat(wire.closed).isTrue();
    }

    @Test
    void anUnresolvedPeerIsRefused() {
        FaultInjectingTransport t = FaultInjectingTransport.wrap(new Recording());
        assertThatThrownBy(() -> t.block(InetSocketAddress.createUnresolved("peer.example", 7946)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void concurrentChangesAndTrafficLoseNoBlockAndMiscountNoDrop() throws Exception {
        Recording wire = new Recording();
        FaultInjectingTransport t = FaultInjectingTransport.wrap(wire);
        t.start(new Received());
        int threads = 4;
        int peersEach = 50;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            int base = 8000 + w * peersEach;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < peersEach; i++) {
                    InetSocketAddress p = new InetSocketAddress("127.0.0.1", base + i);
                    t.block(p);
                    t.sendPacket(p, PAYLOAD);  // blocked by this thread itself: always dropped
                }
            }, "fault-test-" + w);
            workers.add(th);
            th.start();
        }
        go.countDown();
        for (Thread th : workers) {
            th.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(th.isAlive()).isFalse();
        }
        assertThat(t.blocked()).hasSize(threads * peersEach);
        assertThat(t.drops().packetsOut()).isEqualTo(threads * peersEach);
        assertThat(wire.packetsSent).isEmpty();
    }

    // ---------------------------------------------------------------- memberlist on the simulated network

    private static Map<String, FaultInjectingTransport> wrapped(SimCluster c, int n) {
        Map<String, FaultInjectingTransport> faults = new java.util.LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String name = SimCluster.name(i);
            c.start(name, b -> {
                FaultInjectingTransport t = FaultInjectingTransport.wrap(c.net.node(name).transport());
                faults.put(name, t);
                b.transport(t);
            });
        }
        var seed = List.of(c.net.node(SimCluster.name(0)).address());
        for (int i = 1; i < n; i++) {
            c.members.get(SimCluster.name(i)).join(seed);
            c.net.runFor(Duration.ofMillis(10));
        }
        return faults;
    }

    private static Set<String> aliveAt(SimCluster c, String observer) {
        return c.members.get(observer).members().stream().filter(m -> m.state() == MemberState.ALIVE)
                .map(Member::name).collect(Collectors.toSet());
    }

    @Test
    void aPartitionConfiguredOnOneSideSplitsMembershipBothWaysAndHeals() {
        SimCluster c = new SimCluster(11, GossipConfig::lan);
        Map<String, FaultInjectingTransport> faults = wrapped(c, 4);
        assertThat(c.net.runUntil(c::converged, Duration.ofMillis(100), Duration.ofSeconds(30))).isTrue();
        Set<String> left = Set.of(SimCluster.name(0), SimCluster.name(1));
        Set<String> right = Set.of(SimCluster.name(2), SimCluster.name(3));
        for (String l : left) {  // only the left side is configured
            for (String r : right) {
                faults.get(l).block(c.net.node(r).address());
            }
        }
        boolean split = c.net.runUntil(() -> left.stream().allMatch(n -> aliveAt(c, n).equals(left))
                && right.stream().allMatch(n -> aliveAt(c, n).equals(right)), Duration.ofMillis(100),
                Duration.ofSeconds(60));
        assertThat(split).as("each side sees only itself alive: %s", c.members.keySet().stream()
                .collect(Collectors.toMap(n -> n, n -> aliveAt(c, n)))).isTrue();
        assertThat(faults.get(SimCluster.name(0)).drops().packetsIn()).as("the right side's probes dropped on arrival")
                .isPositive();
        assertThat(faults.get(SimCluster.name(2)).drops().total()).as("the right side is not configured").isZero();
        // stays split: nothing leaks through within a few push/pull rounds of the right side
        c.net.runFor(Duration.ofSeconds(90));
        assertThat(left.stream().allMatch(n -> aliveAt(c, n).equals(left))
                && right.stream().allMatch(n -> aliveAt(c, n).equals(right))).isTrue();

        faults.values().forEach(GossipFaults::heal);
        c.members.get(SimCluster.name(0)).join(List.of(c.net.node(SimCluster.name(2)).address()));
        assertThat(c.net.runUntil(c::converged, Duration.ofMillis(100), Duration.ofSeconds(60)))
                .as("one membership again after the heal").isTrue();
    }

    @Test
    void anIsolatedNodeIsDeclaredDeadAndRefutesWhenItsIsolationEnds() {
        SimCluster c = new SimCluster(12, GossipConfig::lan);
        Map<String, FaultInjectingTransport> faults = wrapped(c, 3);
        assertThat(c.net.runUntil(c::converged, Duration.ofMillis(100), Duration.ofSeconds(30))).isTrue();
        String lonely = SimCluster.name(1);
        faults.get(lonely).isolate();
        assertThat(c.net.runUntil(() -> c.allSee(lonely, MemberState.DEAD), Duration.ofMillis(100),
                Duration.ofSeconds(60))).isTrue();
        assertThat(faults.get(lonely).drops().packetsOut()).isPositive();
        faults.get(lonely).endIsolation();
        c.members.get(lonely).join(List.of(c.net.node(SimCluster.name(0)).address()));
        assertThat(c.net.runUntil(c::converged, Duration.ofMillis(100), Duration.ofSeconds(60))).isTrue();
    }
}
