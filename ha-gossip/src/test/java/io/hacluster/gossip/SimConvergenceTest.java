package io.hacluster.gossip;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Simulated, virtual time: membership converges, with and without loss, and after partitions. */
class SimConvergenceTest {

    @Test
    void fiftyNodesJoinAndConverge() {
        SimCluster c = new SimCluster(42, GossipConfig::lan);
        c.startAndJoin(50);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        // and it stays converged: no spurious suspicion in a healthy network
        c.net.runFor(Duration.ofSeconds(120));
        assertThat(c.converged()).isTrue();
        assertThat(c.falseDeaths(c.running())).isEmpty();
        for (Memberlist m : c.members.values()) {
            assertThat(m.numMembers()).isEqualTo(50);
            assertThat(m.healthScore()).isZero();
        }
    }

    @Test
    void withFivePercentLossTheClusterConvergesAndNoLiveNodeIsDeclaredDead() {
        SimCluster c = new SimCluster(7, GossipConfig::lan);
        c.net.setLoss(0.05);
        c.startAndJoin(30);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(120))).isTrue();
        c.net.runFor(Duration.ofMinutes(5));
        assertThat(c.falseDeaths(c.running())).isEmpty();
        assertThat(c.converged()).isTrue();
    }

    @Test
    void afterAPartitionHealsBothSidesMerge() {
        GossipConfig base = GossipConfig.lan("x");
        SimCluster c = new SimCluster(11, GossipConfig::lan);
        c.startAndJoin(20);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();

        Set<String> left = IntStream.range(0, 10).mapToObj(SimCluster::name).collect(Collectors.toSet());
        Set<String> right = new HashSet<>(c.running());
        right.removeAll(left);
        c.net.partition(left, right);
        // Long enough that each side declares the other dead: the worst-case suspicion timeout.
        Duration maxSuspicion = GossipMath.suspicionTimeout(base.suspicionMult(), 20, base.probeInterval())
                .multipliedBy(base.suspicionMaxTimeoutMult());
        c.net.runFor(maxSuspicion.plus(Duration.ofSeconds(20)));
        for (String n : left) {
            assertThat(c.members.get(n).numMembers()).as(n + " sees only its side").isEqualTo(10);
        }
        for (String n : right) {
            assertThat(c.members.get(n).numMembers()).as(n + " sees only its side").isEqualTo(10);
        }

        c.net.heal();
        // Reconnect tries a failed node every reconnectInterval with probability failed/alive;
        // push/pull then spreads refuted incarnations. Allow a few intervals and one push/pull period.
        Duration allowance = base.reconnectInterval().multipliedBy(4).plus(base.pushPullInterval());
        assertThat(c.runUntil(c::converged, allowance)).as("merged within " + allowance).isTrue();
    }

    @Test
    void shortPartitionBelowTheSuspicionTimeoutCausesNoDeaths() {
        SimCluster c = new SimCluster(5, GossipConfig::lan);
        c.startAndJoin(12);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        Set<String> a = Set.of(SimCluster.name(0), SimCluster.name(1), SimCluster.name(2));
        Set<String> b = new HashSet<>(c.running());
        b.removeAll(a);
        c.net.partition(a, b);
        GossipConfig cfg = GossipConfig.lan("x");
        Duration min = GossipMath.suspicionTimeout(cfg.suspicionMult(), 12, cfg.probeInterval());
        // A suspicion raised at the start of the partition cannot time out before min.
        c.net.runFor(min.minus(cfg.probeInterval().multipliedBy(2)));
        c.net.heal();
        c.net.runFor(Duration.ofSeconds(90));
        assertThat(c.falseDeaths(c.running())).isEmpty();
        assertThat(c.converged()).isTrue();
    }

    @Test
    void sameSeedGivesTheSameRun() {
        List<String> first = runTrace(99);
        List<String> second = runTrace(99);
        assertThat(second).isEqualTo(first);
    }

    private static List<String> runTrace(long seed) {
        SimCluster c = new SimCluster(seed, GossipConfig::lan);
        c.net.setLoss(0.02);
        c.startAndJoin(10);
        c.net.runFor(Duration.ofSeconds(5));
        c.net.node(SimCluster.name(3)).crash();
        c.net.runFor(Duration.ofSeconds(60));
        return c.leaves.entrySet().stream()
                .flatMap(e -> e.getValue().stream().map(ev -> e.getKey() + ":" + ev.member().name() + "@" + ev.atNanos()))
                .toList();
    }
}
