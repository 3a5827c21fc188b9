package io.hacluster.gossip;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The builder's Netty convenience on real loopback sockets, with the real-time scheduler. */
class MemberlistNettyBuilderTest {

    private static GossipConfig config(String name) {
        // The local preset's 1 s TCP timeout is tight for a cold JVM's first push/pull on a
        // loaded 2-core machine; this test is about the builder, not timing.
        return GossipConfig.local(name).toBuilder().bindHost("127.0.0.1").bindPort(0)
                .tcpTimeout(Duration.ofSeconds(10)).build();
    }

    @Test
    void twoNodesBuiltWithNettyTransportJoinLeaveAndStopTheirThreads() throws Exception {
        try (Memberlist a = Memberlist.builder(config("nb-a")).nettyTransport().build();
             Memberlist b = Memberlist.builder(config("nb-b")).nettyTransport().build()) {
            assertThat(a.localMember().state()).isEqualTo(MemberState.ALIVE);
            int contacted = b.join(List.of(a.advertiseAddress())).get(10, TimeUnit.SECONDS);
            assertThat(contacted).isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.numMembers() == 2 && b.numMembers() == 2);
            b.leave(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.member("nb-b").state() == MemberState.LEFT);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.isAlive() && (t.getName().equals("ha-nb-a-gossip") || t.getName().equals("ha-nb-b-gossip"))));
    }
}
