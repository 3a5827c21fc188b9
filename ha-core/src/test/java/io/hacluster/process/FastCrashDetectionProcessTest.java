package io.hacluster.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.gossip.ConnectOutcome;
import io.hacluster.gossip.netty.NettyTransport;
import io.hacluster.gossip.netty.NettyTransportConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fast crash detection between real processes (three ClusterNodes in child JVMs, gossip's
 * {@code lan} preset): a SIGKILLed node's peers see its streaming connection reset, find both its
 * ports refusing, and declare it dead on that evidence (their fast-path counters say so). A node
 * frozen with SIGSTOP keeps its listening sockets, so connects to it are accepted, and it is
 * never declared dead and the fast path never fires.
 */
class FastCrashDetectionProcessTest {

    private static final Duration START = Duration.ofSeconds(60);
    private static final Duration DETECTION = Duration.ofSeconds(30);
    private static final Duration ASK = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private final List<ChildNode> children = new ArrayList<>();
    private final String cluster = "f-" + UUID.randomUUID().toString().substring(0, 8);

    @AfterEach
    void killAll() throws InterruptedException {
        for (ChildNode c : children) {
            c.close();
        }
    }

    private static String idOf(int rank) {
        return String.format("f%025d", rank);
    }

    private ChildNode start(int rank, int gossipPort, Integer seedPort) throws Exception {
        Path idFile = dir.resolve(rank + ".id");
        Files.writeString(idFile, idOf(rank) + "\n", StandardCharsets.US_ASCII);
        ChildNode c = ChildNode.start("fast-" + rank, cluster, idFile, gossipPort,
                GracefulDepartureProcessTest.freePort(), seedPort == null ? "" : "127.0.0.1:" + seedPort,
                Duration.ofSeconds(10), new ChildNode.Options("lan", 0, 0, 0, null));
        children.add(c);
        c.await(l -> l.equals("READY " + idOf(rank)), START, "READY");
        return c;
    }

    /** Three nodes that all see each other alive, with streaming connections up both ways to the third. */
    private List<ChildNode> ring() throws Exception {
        int seedPort = GracefulDepartureProcessTest.freePort();
        List<ChildNode> ring = List.of(start(1, seedPort, null), start(2, GracefulDepartureProcessTest.freePort(), seedPort),
                start(3, GracefulDepartureProcessTest.freePort(), seedPort));
        for (ChildNode c : ring) {
            for (int r = 1; r <= 3; r++) {
                String id = idOf(r);
                c.await(l -> l.startsWith("M " + id + " ALIVE"), START, id + " alive");
            }
        }
        // a reliable broadcast acknowledged by both others: the victim's connections are up
        ChildNode victim = ring.get(2);
        victim.command("SEND 1 10");
        for (int r = 1; r <= 2; r++) {
            String id = idOf(r);
            victim.await(l -> l.startsWith("R 1 " + id + " OK"), START, "ack from " + id);
        }
        return ring;
    }

    @Test
    void aKilledProcessIsDeclaredDeadOnTheEvidenceOfRefusedConnections() throws Exception {
        List<ChildNode> ring = ring();
        ChildNode victim = ring.get(2);
        String victimId = idOf(3);
        victim.kill();
        assertThat(victim.awaitExit(Duration.ofSeconds(10))).isTrue();

        long fastDeaths = 0;
        for (ChildNode survivor : ring.subList(0, 2)) {
            survivor.await(l -> l.startsWith("M " + victimId + " DEAD"), DETECTION, victimId + " dead");
        }
        for (ChildNode survivor : ring.subList(0, 2)) {
            fastDeaths += survivor.fastPath(ASK)[0];
        }
        assertThat(fastDeaths).as("survivors that declared it on crash evidence").isGreaterThanOrEqualTo(1);
        // and it stays dead: no member line brings it back
        for (ChildNode survivor : ring.subList(0, 2)) {
            assertThat(survivor.count(l -> l.startsWith("M " + victimId + " ALIVE"))).isEqualTo(1);
        }
    }

    @Test
    void aStoppedProcessStillAcceptsConnectionsAndIsNeverDeclaredDead() throws Exception {
        List<ChildNode> ring = ring();
        ChildNode victim = ring.get(2);
        String victimId = idOf(3);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (NettyTransport prober = NettyTransport.bind(NettyTransportConfig.of("prober", new InetSocketAddress(loopback, 0)))) {
            victim.signal("STOP");
            long stoppedAt = System.nanoTime();
            try {
                await().atMost(Duration.ofSeconds(5)).until(() -> victim.procState() == 'T');
                // the kernel completes handshakes for a stopped process: no refusal, no fast path
                for (int port : new int[] {victim.gossipPort, victim.streamingPort}) {
                    assertThat(prober.probeConnect(new InetSocketAddress(loopback, port), Duration.ofMillis(500))
                            .get(10, TimeUnit.SECONDS)).as("connect to port %d of a stopped process", port)
                            .isEqualTo(ConnectOutcome.ACCEPTED);
                }
                // the stall itself: 3 s frozen
                long left = Duration.ofSeconds(3).toNanos() - (System.nanoTime() - stoppedAt);
                if (left > 0) {
                    TimeUnit.NANOSECONDS.sleep(left);
                }
            } finally {
                victim.signal("CONT");
            }
        }
        // observe past the LAN suspicion minimum (4 s) with margin: no survivor may report it dead
        await().during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(9)).until(() -> ring.subList(0, 2).stream()
                .noneMatch(c -> c.count(l -> l.startsWith("M " + victimId + " DEAD")) > 0));
        for (ChildNode c : ring) {
            assertThat(c.fastPath(ASK)[0]).as("fast-path deaths on %s", c.name).isZero();
        }
    }
}
