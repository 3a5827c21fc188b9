package io.hacluster.gossip.serf;

import io.hacluster.gossip.CrashProbeResult;
import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.LoopbackTimeouts;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import io.hacluster.gossip.netty.NettyTransport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A mixed ring (two Java nodes and Debian's serf agent, {@code lan} timers, on 127.0.0.1): a Java
 * node that stops abruptly (sockets closed, nothing sent) is declared dead by the other Java
 * node's crash probe, and serf takes that ordinary dead message: it reports the member failed
 * without its own suspicion timer having run out, and it stays failed, with no alive/failed
 * flapping in its members or its events.
 */
class CrashEvidenceSerfTest {

    private static final Duration CONVERGE_WAIT = Duration.ofSeconds(20);
    private static final Duration DETECTION_WAIT = Duration.ofSeconds(40);
    private static final String VICTIM = "java-victim";

    @BeforeAll
    static void serfInstalled() {
        SerfAgent.requireInstalled();
    }

    private static Memberlist javaNode(String name) {
        GossipConfig config = GossipConfig.lan(name).toBuilder()
                .bindHost("127.0.0.1").bindPort(0)
                .delegateProtocol(2, 5, 5)
                .tcpTimeout(LoopbackTimeouts.TCP_TIMEOUT)
                .build();
        return Memberlist.builder(config).transport(NettyTransport.bind(config)).build();
    }

    private static int count(String text, String needle) {
        Matcher m = Pattern.compile(Pattern.quote(needle)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void serfAcceptsAFastPathDeathAndKeepsTheMemberFailed() throws Exception {
        try (SerfAgent serf = SerfAgent.start("serf-mixed", "lan", 5);
             Memberlist observer = javaNode("java-observer");
             Memberlist victim = javaNode(VICTIM)) {
            observer.join(List.of(serf.gossipAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
            victim.join(List.of(serf.gossipAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
            await("all three alive everywhere").atMost(CONVERGE_WAIT).untilAsserted(() -> {
                assertThat(serf.statusOf(VICTIM)).contains("alive");
                assertThat(serf.statusOf("java-observer")).contains("alive");
                assertThat(observer.member(VICTIM)).isNotNull();
                assertThat(observer.member(VICTIM).state()).isEqualTo(MemberState.ALIVE);
                assertThat(observer.member("serf-mixed")).isNotNull();
            });

            victim.shutdown();  // a crash: its ports close, it says nothing
            CrashProbeResult result = observer.probeCrash(VICTIM, List.of()).get(10, TimeUnit.SECONDS);
            assertThat(result).isEqualTo(CrashProbeResult.DEAD);
            assertThat(observer.stats().fastPathDeaths()).isEqualTo(1);

            await("serf marks it failed").atMost(DETECTION_WAIT).untilAsserted(() ->
                    assertThat(serf.statusOf(VICTIM)).as("serf members: %s", serf.statuses()).contains("failed"));
            // serf took our dead message: its own suspicion of the victim never ran out
            assertThat(serf.output()).doesNotContain("Marking " + VICTIM + " as failed, suspect timeout reached");

            // no flapping: failed it stays (past serf's own LAN suspicion time for 3 nodes, 4 s),
            // with one failure event and no second join
            await().during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(8)).until(() ->
                    serf.statusOf(VICTIM).filter("failed"::equals).isPresent()
                            && observer.member(VICTIM).state() == MemberState.DEAD);
            String out = serf.output();
            assertThat(count(out, "EventMemberFailed: " + VICTIM)).as(out).isEqualTo(1);
            assertThat(count(out, "EventMemberJoin: " + VICTIM)).as(out).isEqualTo(1);
            assertThat(serf.statusOf("java-observer")).contains("alive");
        }
    }
}
