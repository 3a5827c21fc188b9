package io.hacluster.gossip.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.gossip.FaultInjectingTransport;
import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.LoopbackTimeouts;
import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The fault seam over real sockets on 127.0.0.1: a datagram's source is the sender's gossip
 * address, so a peer blocked on one side only has its probes dropped on arrival; a block on both
 * sides splits two nodes, and a heal plus a join merges them again.
 */
class FaultInjectingNettyLoopbackTest {

    private static final Duration DETECTION_WAIT = Duration.ofSeconds(40);

    private final List<Memberlist> nodes = new ArrayList<>();

    @AfterEach
    void shutdownAll() {
        nodes.forEach(Memberlist::shutdown);
    }

    private Memberlist start(String name, FaultInjectingTransport[] out) {
        GossipConfig config = GossipConfig.local(name).toBuilder().bindHost("127.0.0.1").bindPort(0)
                .tcpTimeout(LoopbackTimeouts.TCP_TIMEOUT).build();
        FaultInjectingTransport t = FaultInjectingTransport.wrap(NettyTransport.bind(config));
        out[0] = t;
        Memberlist m = Memberlist.builder(config).transport(t).build();
        nodes.add(m);
        return m;
    }

    private static MemberState stateOf(Memberlist observer, String name) {
        Member m = observer.member(name);
        return m == null ? null : m.state();
    }

    @Test
    void blockedPeersAreDroppedOnArrivalOverRealSocketsAndHealingMergesThemAgain() throws Exception {
        FaultInjectingTransport[] fa = new FaultInjectingTransport[1];
        FaultInjectingTransport[] fb = new FaultInjectingTransport[1];
        Memberlist a = start("fault-a", fa);
        Memberlist b = start("fault-b", fb);
        assertThat(b.join(List.of(a.advertiseAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS))
                .isEqualTo(1);
        await().atMost(LoopbackTimeouts.JOIN_WAIT).until(() -> a.numMembers() == 2 && b.numMembers() == 2);

        fa[0].block(b.advertiseAddress());  // one side only
        await("a drops b's probes on arrival and stops seeing b alive").atMost(DETECTION_WAIT)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> fa[0].drops().packetsIn() > 0 && stateOf(a, "fault-b") != MemberState.ALIVE);
        assertThat(fa[0].drops().packetsOut()).as("a's own probes of b never left").isPositive();
        assertThat(fb[0].drops().total()).isZero();

        fb[0].block(a.advertiseAddress());  // now both sides: a clean split
        await("each declares the other dead").atMost(DETECTION_WAIT).pollInterval(Duration.ofMillis(50))
                .until(() -> stateOf(a, "fault-b") == MemberState.DEAD && stateOf(b, "fault-a") == MemberState.DEAD);

        fa[0].heal();
        fb[0].heal();
        assertThat(fa[0].blocked()).isEmpty();
        b.join(List.of(a.advertiseAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
        await("merged again").atMost(DETECTION_WAIT).pollInterval(Duration.ofMillis(50))
                .until(() -> stateOf(a, "fault-b") == MemberState.ALIVE && stateOf(b, "fault-a") == MemberState.ALIVE);
    }
}
