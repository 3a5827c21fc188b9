package io.hacluster.gossip;

import io.hacluster.gossip.wire.Codec;
import io.hacluster.gossip.wire.Message;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The public Memberlist API over the simulated network. */
class SimMemberlistApiTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void metadataFromTheProviderAndItsUpdatesReachEveryNode() {
        SimCluster c = new SimCluster(1, GossipConfig::lan);
        for (int i = 0; i < 8; i++) {
            String n = SimCluster.name(i);
            c.start(n, b -> b.metadataProvider(limit -> utf8("v1-" + n)));
        }
        for (int i = 1; i < 8; i++) {
            c.members.get(SimCluster.name(i)).join(List.of(c.net.node(SimCluster.name(0)).address()));
        }
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(30))).isTrue();
        assertThat(c.members.get(SimCluster.name(7)).member(SimCluster.name(3)).meta()).isEqualTo(utf8("v1-n003"));

        CompletableFuture<Void> done = c.members.get(SimCluster.name(3)).updateMeta(utf8("v2"), Duration.ofSeconds(5));
        String target = SimCluster.name(3);
        assertThat(c.runUntil(() -> c.members.values().stream()
                .allMatch(m -> new String(m.member(target).meta(), StandardCharsets.UTF_8).equals("v2")),
                Duration.ofSeconds(10))).isTrue();
        c.net.runFor(Duration.ofSeconds(5));
        assertThat(done).isCompleted();
        assertThat(done.isCompletedExceptionally()).isFalse();
        // every other node raised exactly one update event for it
        c.updates.forEach((obs, evs) -> {
            if (!obs.equals(target)) {
                assertThat(evs).as(obs).extracting(e -> e.member().name()).containsExactly(target);
            }
        });
        assertThatThrownBy(() -> c.members.get(target).updateMeta(new byte[513], Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void userMessagesArriveBestEffortAndReliable() {
        SimCluster c = new SimCluster(2, GossipConfig::lan);
        List<String> got = new ArrayList<>();
        c.start("a");
        c.start("b", b -> b.messageListener(p -> got.add(new String(p, StandardCharsets.UTF_8))));
        c.members.get("a").join(List.of(c.net.node("b").address()));
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(10))).isTrue();
        Member b = c.members.get("a").member("b");
        c.members.get("a").sendBestEffort(b, utf8("hello over udp"));
        CompletableFuture<Void> r = c.members.get("a").sendReliable(b, utf8("hello over tcp"));
        c.net.runFor(Duration.ofSeconds(1));
        assertThat(r).isCompleted();
        assertThat(got).containsExactlyInAnyOrder("hello over udp", "hello over tcp");
    }

    @Test
    void bestEffortCarriesWhatOneDatagramCarriesAsGoMemberlistDoes() {
        SimCluster c = new SimCluster(2, GossipConfig::lan);
        List<Integer> sizes = new ArrayList<>();
        c.start("a");
        c.start("b", b -> b.messageListener(p -> sizes.add(p.length)));
        Memberlist a = c.members.get("a");
        a.join(List.of(c.net.node("b").address()));
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(10))).isTrue();
        Member b = a.member("b");
        int max = a.maxBestEffortPayload();
        // 65,507 bytes of UDP payload less the user-message type byte and the CRC of protocol 5
        assertThat(max).isEqualTo(65_507 - 1 - 5);
        a.sendBestEffort(b, new byte[8_000]);  // what Go's SendBestEffort sends and Java already accepted
        a.sendBestEffort(b, new byte[max]);
        c.net.runFor(Duration.ofSeconds(1));
        assertThat(sizes).containsExactly(8_000, max);
        assertThatThrownBy(() -> a.sendBestEffort(b, new byte[max + 1]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("one UDP datagram");
    }

    @Test
    void pushPullCarriesApplicationState() {
        SimCluster c = new SimCluster(3, GossipConfig::lan);
        List<String> merged = new ArrayList<>();
        StateDelegate state = new StateDelegate() {
            @Override
            public byte[] localState(boolean join) {
                return utf8("state-of-b join=" + join);
            }

            @Override
            public void mergeRemoteState(byte[] remote, boolean join) {
                merged.add(new String(remote, StandardCharsets.UTF_8));
            }
        };
        c.start("a", b -> b.stateDelegate(new StateDelegate() {
            @Override
            public byte[] localState(boolean join) {
                return utf8("state-of-a join=" + join);
            }

            @Override
            public void mergeRemoteState(byte[] remote, boolean join) {
                merged.add(new String(remote, StandardCharsets.UTF_8));
            }
        }));
        c.start("b", b -> b.stateDelegate(state));
        CompletableFuture<Integer> joined = c.members.get("a").join(List.of(c.net.node("b").address()));
        c.net.runFor(Duration.ofSeconds(1));
        assertThat(joined).isCompletedWithValue(1);
        assertThat(merged).containsExactlyInAnyOrder("state-of-a join=true", "state-of-b join=true");
    }

    @Test
    void joinReportsHowManySeedsAnsweredAndFailsWhenNoneDid() {
        SimCluster c = new SimCluster(4, GossipConfig::lan);
        c.start("a");
        c.start("b");
        c.start("dead");
        c.net.node("dead").crash();
        InetSocketAddress nowhere = new InetSocketAddress("10.99.99.99", 7946);
        CompletableFuture<Integer> some = c.members.get("a").join(
                List.of(c.net.node("b").address(), c.net.node("dead").address(), nowhere));
        c.net.runFor(Duration.ofSeconds(15));
        assertThat(some).isCompletedWithValue(1);
        CompletableFuture<Integer> none = c.members.get("b").join(List.of(nowhere));
        c.net.runFor(Duration.ofSeconds(15));
        assertThat(none).isCompletedExceptionally();
        assertThatThrownBy(none::join).hasCauseInstanceOf(GossipException.class);
    }

    @Test
    void aliveFilterKeepsForeignNodesOut() {
        SimCluster c = new SimCluster(5, GossipConfig::lan);
        AliveFilter sameCluster = m -> new String(m.meta(), StandardCharsets.UTF_8).startsWith("blue");
        c.start("a", b -> b.metadataProvider(l -> utf8("blue")).aliveFilter(sameCluster));
        c.start("b", b -> b.metadataProvider(l -> utf8("blue")).aliveFilter(sameCluster));
        c.start("intruder", b -> b.metadataProvider(l -> utf8("green")));
        c.members.get("b").join(List.of(c.net.node("a").address()));
        c.members.get("intruder").join(List.of(c.net.node("a").address()));
        c.net.runFor(Duration.ofSeconds(30));
        assertThat(c.members.get("a").members()).extracting(Member::name).containsExactlyInAnyOrder("a", "b");
        assertThat(c.members.get("b").members()).extracting(Member::name).containsExactlyInAnyOrder("a", "b");
        assertThat(c.members.get("a").stats().rejectedDropped()).isPositive();
    }

    @Test
    void sameNameFromAnotherAddressIsAConflictAndTheExistingEntryIsKept() {
        SimCluster c = new SimCluster(6, GossipConfig::lan);
        List<String> conflicts = new ArrayList<>();
        c.start("a", b -> b.conflictListener((mine, other) -> conflicts.add(mine.name() + " " + mine.address()
                + " vs " + other.address())));
        c.start("b");
        c.members.get("b").join(List.of(c.net.node("a").address()));
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(10))).isTrue();
        InetSocketAddress original = c.members.get("a").member("b").address();
        // A second process also calling itself "b" at another address.
        SimulatedNetwork.SimNode impostorNode = c.net.addNode("b-impostor");
        Memberlist impostor = Memberlist.builder(GossipConfig.lan("b")).transport(impostorNode.transport())
                .scheduler(impostorNode.scheduler()).random(new Random(1)).build();
        impostor.join(List.of(c.net.node("a").address()));
        c.net.runFor(Duration.ofSeconds(5));
        assertThat(conflicts).isNotEmpty();
        assertThat(conflicts.get(0)).startsWith("b ");
        assertThat(c.members.get("a").member("b").address()).isEqualTo(original);
    }

    @Test
    void leaveWithNobodyElseAliveCompletesAtOnce() {
        SimCluster c = new SimCluster(7, GossipConfig::lan);
        c.start("solo");
        c.net.runFor(Duration.ofMillis(10));
        CompletableFuture<Void> f = c.members.get("solo").leave(Duration.ofSeconds(1));
        c.net.runFor(Duration.ofMillis(10));
        assertThat(f).isCompleted();
        assertThat(c.members.get("solo").localMember().state()).isEqualTo(MemberState.LEFT);
    }

    @Test
    void hostileAndForeignPacketsAreDroppedAndCounted() {
        SimCluster c = new SimCluster(8, GossipConfig::lan);
        c.start("a");
        c.start("b");
        c.members.get("b").join(List.of(c.net.node("a").address()));
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(10))).isTrue();
        SimulatedNetwork.SimNode attacker = c.net.addNode("attacker");
        attacker.transport().start(new Transport.Inbound() {
            @Override
            public void onPacket(InetSocketAddress from, byte[] packet, long t) {
            }

            @Override
            public CompletableFuture<byte[]> onStream(InetSocketAddress from, byte[] message) {
                return CompletableFuture.completedFuture(null);
            }
        });
        InetSocketAddress a = c.net.node("a").address();
        Random r = new Random(42);
        for (int i = 0; i < 500; i++) {
            byte[] junk = new byte[r.nextInt(200)];
            r.nextBytes(junk);
            attacker.transport().sendPacket(a, junk);
        }
        // a well-formed message with a label the node does not use
        byte[] ping = Codec.encode(new Message.Ping(1, "a", new byte[] {10, 0, 0, 9}, 7946, "x"));
        byte[] labelled = io.hacluster.gossip.wire.Packets.wrap(ping, false,
                io.hacluster.gossip.wire.WireOptions.DEFAULT.withLabel("other-cluster"));
        attacker.transport().sendPacket(a, labelled);
        // streams too
        for (int i = 0; i < 50; i++) {
            byte[] junk = new byte[r.nextInt(300)];
            r.nextBytes(junk);
            attacker.transport().exchange(a, junk, true, Duration.ofSeconds(1));
        }
        c.net.runFor(Duration.ofSeconds(5));
        GossipStats s = c.members.get("a").stats();
        assertThat(s.malformedDropped() + s.labelDropped() + s.rejectedDropped()).isGreaterThanOrEqualTo(400);
        assertThat(s.labelDropped()).isGreaterThanOrEqualTo(1);
        // and the node still works
        c.net.runFor(Duration.ofSeconds(30));
        assertThat(c.members.get("a").member("b").state()).isEqualTo(MemberState.ALIVE);
        assertThat(c.members.get("b").member("a").state()).isEqualTo(MemberState.ALIVE);
    }

    @Test
    void labelledClustersDoNotMix() {
        SimCluster c = new SimCluster(9, n -> GossipConfig.lan(n).toBuilder()
                .label(n.startsWith("x") ? "prod" : "staging").build());
        c.start("x1");
        c.start("x2");
        c.start("y1");
        c.members.get("x2").join(List.of(c.net.node("x1").address()));
        CompletableFuture<Integer> foreign = c.members.get("y1").join(List.of(c.net.node("x1").address()));
        c.net.runFor(Duration.ofSeconds(20));
        assertThat(foreign).isCompletedExceptionally();
        assertThat(c.members.get("x1").members()).extracting(Member::name).containsExactlyInAnyOrder("x1", "x2");
        assertThat(c.members.get("x1").stats().labelDropped()).isPositive();
    }

    @Test
    void incompatibleProtocolVersionsAreNotMerged() {
        SimCluster c = new SimCluster(10, n -> GossipConfig.lan(n).toBuilder()
                .delegateProtocol(n.equals("old") ? 1 : 3, n.equals("old") ? 1 : 3, n.equals("old") ? 2 : 3).build());
        c.start("new1");
        c.start("old");
        CompletableFuture<Integer> f = c.members.get("old").join(List.of(c.net.node("new1").address()));
        c.net.runFor(Duration.ofSeconds(5));
        assertThat(f).isCompletedExceptionally();
        assertThat(c.members.get("old").members()).extracting(Member::name).containsExactly("old");
    }
}
