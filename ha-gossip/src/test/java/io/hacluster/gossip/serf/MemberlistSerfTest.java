package io.hacluster.gossip.serf;

import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.LoopbackTimeouts;
import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import io.hacluster.gossip.MembershipListener;
import io.hacluster.gossip.netty.NettyTransport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Our Memberlist over NettyTransport in one ring with Debian's serf agent (memberlist 0.2.2
 * inside), on 127.0.0.1. Serf's {@code -protocol} 2..5 all map to memberlist protocol 2 and
 * become the node's delegate version, which memberlist checks against every member's delegate
 * range: the Java node therefore advertises delegate versions 2..5 like serf does.
 */
class MemberlistSerfTest {
    /** LAN: probe 1 s, suspicion 4 s minimum for two nodes; LOCAL: 3 s. Generous for a loaded CI box. */
    private static final Duration DETECTION_WAIT = Duration.ofSeconds(40);
    private static final Duration CONVERGE_WAIT = Duration.ofSeconds(20);

    @BeforeAll
    static void serfInstalled() {
        SerfAgent.requireInstalled();
    }

    private static Memberlist javaNode(String name, String profile, int serfProtocol, int javaProtocol) {
        return javaNode(name, profile, serfProtocol, javaProtocol, new CopyOnWriteArrayList<>());
    }

    /** A Java node with the profile's timers (TCP timeout aside); names it saw leave go to {@code leaves}. */
    private static Memberlist javaNode(String name, String profile, int serfProtocol, int javaProtocol,
                                       List<String> leaves) {
        GossipConfig config = GossipConfig.preset(profile, name).toBuilder()
                .bindHost("127.0.0.1").bindPort(0)
                .protocolVersion(javaProtocol)
                .delegateProtocol(2, serfProtocol, 5)
                .tcpTimeout(LoopbackTimeouts.TCP_TIMEOUT)
                .build();
        return Memberlist.builder(config).transport(NettyTransport.bind(config))
                .membershipListener(new MembershipListener() {
                    @Override
                    public void onLeave(Member member) {
                        leaves.add(member.name() + ":" + member.state());
                    }
                }).build();
    }

    private static MemberState stateOf(Memberlist node, String name) {
        Member m = node.member(name);
        return m == null ? null : m.state();
    }

    @ParameterizedTest(name = "serf -protocol {0} -profile {1}, java protocol {2}")
    @CsvSource({"2, local, 2", "5, local, 5", "4, lan, 2"})
    void javaJoinsSerfBothListEachOtherAliveAndJavaDetectsTheKilledAgent(int serfProtocol, String profile,
                                                                       int javaProtocol) throws Exception {
        String serfName = "serf-p" + serfProtocol + "-" + profile;
        String javaName = "java-p" + serfProtocol + "-" + profile;
        List<String> javaSawLeave = new CopyOnWriteArrayList<>();
        try (SerfAgent serf = SerfAgent.start(serfName, profile, serfProtocol);
             Memberlist java = javaNode(javaName, profile, serfProtocol, javaProtocol, javaSawLeave)) {
            assertThat(java.join(List.of(serf.gossipAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1);

            await("serf lists the Java node alive").atMost(CONVERGE_WAIT).untilAsserted(() ->
                    assertThat(serf.statusOf(javaName)).as("serf members: %s", serf.statuses()).contains("alive"));
            await("Java lists the agent alive").atMost(CONVERGE_WAIT).untilAsserted(() -> {
                Member agent = java.member(serfName);
                assertThat(agent).isNotNull();
                assertThat(agent.state()).isEqualTo(MemberState.ALIVE);
                assertThat(agent.address()).isEqualTo(serf.gossipAddress());
                assertThat(agent.delegateVersion()).isEqualTo(serfProtocol);
                assertThat(agent.protocolVersion()).isEqualTo(2);
            });
            // Both keep each other alive through several probe rounds: our acks satisfy serf's
            // probes. (A suspicion refuted in time is normal SWIM under load, so only a failure
            // counts against us.)
            // A moment's SUSPECT on a busy host is refuted and proves nothing, so the checks are
            // that nobody was ever declared failed and that both still list each other alive.
            Thread.sleep(3_000); // a window for false failure; the assertions below are on state
            assertThat(serf.statusOf(javaName)).contains("alive");
            assertThat(serf.output()).doesNotContain("EventMemberFailed: " + javaName);
            assertThat(javaSawLeave).as("Java never declared the agent dead or left").isEmpty();
            await("Java lists the agent alive after the window").atMost(CONVERGE_WAIT)
                    .until(() -> stateOf(java, serfName) == MemberState.ALIVE);

            serf.kill();
            await("Java marks the killed agent dead").atMost(DETECTION_WAIT).untilAsserted(() ->
                    assertThat(stateOf(java, serfName)).isEqualTo(MemberState.DEAD));
        }
    }

    @Test
    void serfMarksAnAbruptlyStoppedJavaNodeFailed() throws Exception {
        try (SerfAgent serf = SerfAgent.start("serf-observer", "local", 5);
             Memberlist java = javaNode("java-crash", "local", 5, 2)) {
            java.join(List.of(serf.gossipAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
            await().atMost(CONVERGE_WAIT).until(() -> serf.statusOf("java-crash").filter("alive"::equals).isPresent());

            java.shutdown(); // sockets closed, nothing sent
            await("serf marks it failed").atMost(DETECTION_WAIT).untilAsserted(() ->
                    assertThat(serf.statusOf("java-crash")).as("serf members: %s", serf.statuses()).contains("failed"));
            assertThat(serf.output()).contains("EventMemberFailed: java-crash");
        }
    }

    @Test
    void gracefulLeaveIsLeftInSerfWhenSerfsLeaveIntentPrecedesIt() throws Exception {
        try (SerfAgent serf = SerfAgent.start("serf-witness", "local", 5);
             Memberlist plain = javaNode("java-plain-leave", "local", 5, 2);
             Memberlist polite = javaNode("java-serf-leave", "local", 5, 2)) {
            plain.join(List.of(serf.gossipAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
            polite.join(List.of(serf.gossipAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
            await().atMost(CONVERGE_WAIT).untilAsserted(() -> {
                assertThat(serf.statusOf("java-plain-leave")).contains("alive");
                assertThat(serf.statusOf("java-serf-leave")).contains("alive");
            });

            // A memberlist leave alone: every memberlist peer records LEFT (our nodes do), but
            // serf 0.9 only calls a departure "left" after its own leave intent, else "failed".
            plain.leave(Duration.ofSeconds(5)).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
            plain.shutdown();
            await().atMost(CONVERGE_WAIT).untilAsserted(() -> {
                assertThat(stateOf(polite, "java-plain-leave")).isEqualTo(MemberState.LEFT);
                assertThat(serf.statusOf("java-plain-leave")).as("serf members: %s", serf.statuses()).contains("failed");
            });

            // Serf's leave intent (a serf message inside a memberlist user message), then the leave.
            Member agent = polite.member("serf-witness");
            polite.sendBestEffort(agent, serfLeaveIntent("java-serf-leave", 1));
            await("serf sees the intent").atMost(CONVERGE_WAIT).untilAsserted(() ->
                    assertThat(serf.statusOf("java-serf-leave")).contains("leaving"));
            polite.leave(Duration.ofSeconds(5)).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
            polite.shutdown();
            await("serf shows left").atMost(CONVERGE_WAIT).untilAsserted(() ->
                    assertThat(serf.statusOf("java-serf-leave")).as("serf members: %s", serf.statuses()).contains("left"));
            assertThat(serf.output()).contains("EventMemberLeave: java-serf-leave");
        }
    }

    /**
     * serf's {@code messageLeave}: type byte 0 (messageLeaveType), then a msgpack map
     * {LTime, Node, Prune}. Any LTime above the member's status time (0 for a member that never
     * sent a serf join intent) is accepted.
     */
    static byte[] serfLeaveIntent(String node, long lamportTime) {
        try (MessageBufferPacker packer = MessagePack.newDefaultBufferPacker()) {
            packer.packByte((byte) 0);
            packer.packMapHeader(3);
            packer.packString("LTime").packLong(lamportTime);
            packer.packString("Node").packString(node);
            packer.packString("Prune").packBoolean(false);
            return packer.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
