package io.hacluster.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader as a real process killed with SIGKILL (no leave, no shutdown hook): gossip declares
 * it dead and the two survivors, child JVMs too, agree on the next lowest id with a higher epoch.
 */
class LeaderKillProcessTest {

    private static final Duration START = Duration.ofSeconds(60);
    private static final Duration FAILOVER = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private final List<ChildNode> children = new ArrayList<>();
    private final String cluster = "k-" + UUID.randomUUID().toString().substring(0, 8);

    @AfterEach
    void killAll() throws InterruptedException {
        for (ChildNode c : children) {
            c.close();
        }
    }

    private static String idOf(int rank) {
        return String.format("k%025d", rank);
    }

    private ChildNode start(int rank, int gossipPort, Integer seedPort) throws Exception {
        Path idFile = dir.resolve(rank + ".id");
        Files.writeString(idFile, idOf(rank) + "\n", StandardCharsets.US_ASCII);
        ChildNode c = ChildNode.start("leader-kill-" + rank, cluster, idFile, gossipPort,
                GracefulDepartureProcessTest.freePort(), seedPort == null ? "" : "127.0.0.1:" + seedPort,
                Duration.ofSeconds(10));
        children.add(c);
        c.await(l -> l.equals("READY " + idOf(rank)), START, "READY");
        return c;
    }

    /** The latest leader line of {@code c} names {@code id}; returns its epoch. */
    private static long awaitLeader(ChildNode c, String id, Duration timeout) throws InterruptedException {
        String line = c.await(l -> l.startsWith("L " + id + " "), timeout, "leader " + id);
        return Long.parseLong(line.split(" ")[2]);
    }

    @Test
    void killingTheLeaderWithSigkillMovesLeadershipToTheNextLowestId() throws Exception {
        int seedPort = GracefulDepartureProcessTest.freePort();
        ChildNode low = start(1, seedPort, null);
        ChildNode mid = start(2, GracefulDepartureProcessTest.freePort(), seedPort);
        ChildNode high = start(3, GracefulDepartureProcessTest.freePort(), seedPort);
        long epoch = 0;
        for (ChildNode c : List.of(low, mid, high)) {
            epoch = Math.max(epoch, awaitLeader(c, idOf(1), START));
        }
        assertThat(low.count(l -> l.startsWith("L " + idOf(1)) && l.contains(" true "))).isPositive();

        // only what the survivors print after the kill: on a loaded machine a node can lead alone
        // for a moment before its join completes, and that line says nothing about the failover
        int midMark = mid.mark();
        int highMark = high.mark();
        for (ChildNode c : List.of(low, mid, high)) {  // the highest epoch node 1 led at, not the first
            epoch = Math.max(epoch, c.since(0).stream().filter(l -> l.startsWith("L " + idOf(1) + " "))
                    .mapToLong(l -> Long.parseLong(l.split(" ")[2])).max().orElse(0));
        }
        low.kill();
        assertThat(low.awaitExit(Duration.ofSeconds(10))).isTrue();
        for (ChildNode c : List.of(mid, high)) {
            int from = c == mid ? midMark : highMark;
            c.awaitArrival(from, l -> l.startsWith("L " + idOf(2) + " "), FAILOVER, "leader " + idOf(2));
            long next = c.since(from).stream().filter(l -> l.startsWith("L " + idOf(2) + " "))
                    .mapToLong(l -> Long.parseLong(l.split(" ")[2])).findFirst().orElseThrow();
            assertThat(next).as("epoch after the kill, on %s", c.name).isGreaterThan(epoch);
        }
        assertThat(mid.count(l -> l.startsWith("L " + idOf(2)) && l.contains(" true "))).isPositive();
        assertThat(high.count(l -> l.startsWith("L " + idOf(2)) && l.contains(" true "))).isZero();
        assertThat(high.count(l -> l.contains(" crash"))).as(high.tail()).isPositive();
    }
}
