package io.hacluster.gossip.netty;

import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.LoopbackTimeouts;
import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import io.hacluster.gossip.MembershipListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Real Memberlist nodes over NettyTransport on 127.0.0.1, in one JVM, with memberlist's LOCAL
 * preset (1 s probes, 3x suspicion) so failure detection takes seconds, not tens of seconds.
 */
class MemberlistLoopbackTest {
    /** LOCAL, 5 nodes: suspicion min 3 s, max 18 s; probe rounds and gossip add a few seconds. */
    private static final Duration DETECTION_WAIT = Duration.ofSeconds(40);
    private static final Duration CONVERGE_WAIT = Duration.ofSeconds(20);

    private final List<Memberlist> nodes = new ArrayList<>();

    /** Events as "event:name:incarnation" in arrival order. */
    static final class Events implements MembershipListener {
        final List<String> seen = new CopyOnWriteArrayList<>();

        @Override
        public void onJoin(Member m) {
            seen.add("join:" + m.name() + ":" + m.incarnation());
        }

        @Override
        public void onLeave(Member m) {
            seen.add((m.state() == MemberState.LEFT ? "left:" : "dead:") + m.name() + ":" + m.incarnation());
        }
    }

    @AfterEach
    void shutdownAll() {
        nodes.forEach(Memberlist::shutdown);
    }

    private Memberlist start(String name, int port, String label, Events events) {
        GossipConfig config = GossipConfig.local(name).toBuilder()
                .bindHost("127.0.0.1").bindPort(port).label(label)
                .tcpTimeout(LoopbackTimeouts.TCP_TIMEOUT).build();
        NettyTransport transport = NettyTransport.bind(config);
        Memberlist node = Memberlist.builder(config).transport(transport).membershipListener(events).build();
        nodes.add(node);
        return node;
    }

    private static MemberState stateOf(Memberlist observer, String name) {
        Member m = observer.member(name);
        return m == null ? null : m.state();
    }

    private static Map<String, MemberState> view(Memberlist observer) {
        return observer.members().stream().collect(Collectors.toMap(Member::name, Member::state));
    }

    @Test
    void bestEffortCarriesADatagramUpToTheUdpMaximumOverRealSockets() throws Exception {
        List<Integer> received = new CopyOnWriteArrayList<>();
        GossipConfig config = GossipConfig.local("big-b").toBuilder()
                .bindHost("127.0.0.1").bindPort(0).tcpTimeout(LoopbackTimeouts.TCP_TIMEOUT).build();
        Memberlist b = Memberlist.builder(config).transport(NettyTransport.bind(config))
                .messageListener(payload -> received.add(payload.length)).build();
        nodes.add(b);
        Memberlist a = start("big-a", 0, "", new Events());
        a.join(List.of(b.advertiseAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
        await("a sees b").atMost(CONVERGE_WAIT).until(() -> a.member("big-b") != null);
        int max = a.maxBestEffortPayload();
        // Go's SendBestEffort sends what the socket takes; loopback carries a whole 64 KiB datagram
        for (int size : new int[] {8_000, 30_000, max}) {
            await("a " + size + "-byte datagram arrives").atMost(CONVERGE_WAIT).until(() -> {
                a.sendBestEffort(a.member("big-b"), new byte[size]);  // UDP: resend until one arrives
                return received.contains(size);
            });
        }
    }

    @Test
    void fiveNodesDetectACrashSeeALeaveAndReadmitARestartWithAHigherIncarnation() throws Exception {
        List<Memberlist> ring = new ArrayList<>();
        List<Events> events = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Events e = new Events();
            events.add(e);
            ring.add(start("n" + i, 0, "", e));
        }
        InetSocketAddress seed = ring.get(0).advertiseAddress();
        for (int i = 1; i < 5; i++) {
            assertThat(ring.get(i).join(List.of(seed)).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS))
                    .isEqualTo(1);
        }
        await("5 alive everywhere").atMost(CONVERGE_WAIT).untilAsserted(() -> {
            for (Memberlist n : ring) {
                assertThat(n.liveMembers()).hasSize(5);
            }
        });

        // Crash: n4's sockets close without a word. Everyone else must declare it DEAD, not LEFT.
        Memberlist crashed = ring.get(4);
        int port4 = crashed.advertiseAddress().getPort();
        long incarnationBefore = ring.get(0).member("n4").incarnation();
        crashed.shutdown();
        List<Memberlist> survivors = ring.subList(0, 4);
        await("n4 dead everywhere").atMost(DETECTION_WAIT).untilAsserted(() -> {
            for (Memberlist n : survivors) {
                assertThat(stateOf(n, "n4")).as("%s's view: %s", n.localMember().name(), view(n))
                        .isEqualTo(MemberState.DEAD);
            }
        });
        for (int i = 0; i < 4; i++) {
            assertThat(events.get(i).seen).contains("dead:n4:" + incarnationBefore).noneMatch(s -> s.startsWith("left:n4"));
        }
        // Nobody alive was wrongly declared dead on the way.
        for (Memberlist n : survivors) {
            assertThat(n.liveMembers()).extracting(Member::name).containsExactlyInAnyOrder("n0", "n1", "n2", "n3");
        }

        // Graceful leave: n3 announces it; everyone else records LEFT.
        Memberlist leaver = ring.get(3);
        leaver.leave(Duration.ofSeconds(5)).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
        leaver.shutdown();
        List<Memberlist> stayers = ring.subList(0, 3);
        await("n3 left everywhere").atMost(CONVERGE_WAIT).untilAsserted(() -> {
            for (Memberlist n : stayers) {
                assertThat(stateOf(n, "n3")).as("%s's view: %s", n.localMember().name(), view(n))
                        .isEqualTo(MemberState.LEFT);
            }
        });
        for (int i = 0; i < 3; i++) {
            assertThat(events.get(i).seen).anyMatch(s -> s.startsWith("left:n3:")).noneMatch(s -> s.startsWith("dead:n3"));
        }

        // Restart: a new n4 instance on the same address. The others still hold the old n4 as
        // dead; the newcomer learns that on join and refutes with a higher incarnation.
        Events restartedEvents = new Events();
        Memberlist restarted = start("n4", port4, "", restartedEvents);
        restarted.join(List.of(seed)).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
        await("n4 alive again").atMost(CONVERGE_WAIT).untilAsserted(() -> {
            for (Memberlist n : stayers) {
                Member m = n.member("n4");
                assertThat(m).isNotNull();
                assertThat(m.state()).isEqualTo(MemberState.ALIVE);
                assertThat(m.incarnation()).isGreaterThan(incarnationBefore);
            }
            assertThat(restarted.liveMembers()).extracting(Member::name)
                    .containsExactlyInAnyOrder("n0", "n1", "n2", "n4");
        });
        assertThat(restarted.localMember().incarnation()).isGreaterThan(incarnationBefore);
        for (int i = 0; i < 3; i++) {
            assertThat(events.get(i).seen).anyMatch(s -> s.startsWith("join:n4:")
                    && Long.parseLong(s.substring("join:n4:".length())) > incarnationBefore);
        }
    }

    @Test
    void nodesWithDifferentLabelsNeverJoinAndNodesWithTheSameLabelDo() throws Exception {
        Memberlist blue1 = start("blue1", 0, "blue", new Events());
        Memberlist blue2 = start("blue2", 0, "blue", new Events());
        Memberlist green = start("green1", 0, "green", new Events());
        Memberlist unlabelled = start("plain1", 0, "", new Events());

        assertThat(blue2.join(List.of(blue1.advertiseAddress()))
                .get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1);
        await().atMost(CONVERGE_WAIT).untilAsserted(() -> {
            assertThat(blue1.liveMembers()).extracting(Member::name).containsExactlyInAnyOrder("blue1", "blue2");
            assertThat(blue2.liveMembers()).extracting(Member::name).containsExactlyInAnyOrder("blue1", "blue2");
        });

        // Another label, or none: the join fails (no seed answered), and nobody learns of anybody.
        assertThat(green.join(List.of(blue1.advertiseAddress()))).failsWithin(LoopbackTimeouts.JOIN_WAIT);
        assertThat(unlabelled.join(List.of(blue1.advertiseAddress()))).failsWithin(LoopbackTimeouts.JOIN_WAIT);
        // Give stray packets time to arrive; what is checked is that none is accepted.
        Thread.sleep(2_000);
        assertThat(green.liveMembers()).extracting(Member::name).containsExactly("green1");
        assertThat(unlabelled.liveMembers()).extracting(Member::name).containsExactly("plain1");
        assertThat(blue1.members()).extracting(Member::name).containsExactlyInAnyOrder("blue1", "blue2");
        assertThat(blue2.members()).extracting(Member::name).containsExactlyInAnyOrder("blue1", "blue2");
        assertThat(blue1.stats().labelDropped() + blue1.stats().malformedDropped()).isPositive();
    }
}
