package io.hacluster.gossip;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Simulated, virtual time: crashed nodes are declared dead in bounded time, live ones never. */
class SimFailureDetectionTest {

    @Test
    void crashedNodeIsDeclaredDeadByEveryOtherNodeWithinTheSuspicionBound() {
        int n = 50;
        GossipConfig cfg = GossipConfig.lan("x");
        SimCluster c = new SimCluster(3, GossipConfig::lan);
        c.startAndJoin(n);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        c.net.runFor(Duration.ofSeconds(10));

        String victim = SimCluster.name(17);
        long crashAt = c.net.nanoTime();
        c.net.node(victim).crash();

        // Bound from memberlist's formulas:
        //  - some prober reaches the victim within one full round-robin pass of any single
        //    prober, 2n-1 probe intervals in the worst case, and that probe lasts at most the
        //    awareness-scaled probe interval;
        //  - a suspicion times out after at most SuspicionMaxTimeoutMult * min (no confirmations);
        //  - the dead broadcast reaches everyone within retransmitLimit gossip rounds (each
        //    receiver re-gossips it), plus one probe interval for piggybacking slack.
        Duration probe = cfg.probeInterval();
        Duration min = GossipMath.suspicionTimeout(cfg.suspicionMult(), n, probe);
        Duration max = min.multipliedBy(cfg.suspicionMaxTimeoutMult());
        Duration detect = probe.multipliedBy(2L * n - 1).plus(probe.multipliedBy(cfg.awarenessMaxMultiplier()));
        Duration spread = cfg.gossipInterval().multipliedBy(GossipMath.retransmitLimit(cfg.retransmitMult(), n))
                .plus(probe);
        Duration bound = detect.plus(max).plus(spread);

        assertThat(c.runUntil(() -> c.allSee(victim, MemberState.DEAD), bound))
                .as("all survivors mark %s dead within %s", victim, bound).isTrue();
        var deaths = c.leavesOf(victim);
        assertThat(deaths).hasSize(n - 1);
        long first = deaths.stream().mapToLong(SimCluster.Event::atNanos).min().orElseThrow();
        long last = deaths.stream().mapToLong(SimCluster.Event::atNanos).max().orElseThrow();
        // Nobody can declare death before the minimum suspicion timeout has run.
        assertThat(Duration.ofNanos(first - crashAt)).isGreaterThanOrEqualTo(min);
        assertThat(Duration.ofNanos(last - crashAt)).isLessThanOrEqualTo(bound);
        assertThat(deaths).allMatch(e -> e.member().state() == MemberState.DEAD);
        // and nobody else died
        assertThat(c.falseDeaths(c.running())).isEmpty();
        System.out.printf("crash detection n=%d: first %s, last %s, bound %s%n", n,
                Duration.ofNanos(first - crashAt), Duration.ofNanos(last - crashAt), bound);
    }

    @Test
    void deadNodesAreGossipedToForGossipToTheDeadTimeThenForgotten() {
        GossipConfig cfg = GossipConfig.lan("x");
        SimCluster c = new SimCluster(4, GossipConfig::lan);
        c.startAndJoin(6);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(30))).isTrue();
        String victim = SimCluster.name(1);
        c.net.node(victim).crash();
        assertThat(c.runUntil(() -> c.allSee(victim, MemberState.DEAD), Duration.ofSeconds(120))).isTrue();
        // Still listed (as DEAD) within GossipToTheDeadTime...
        c.net.runFor(cfg.gossipToTheDeadTime().minus(Duration.ofSeconds(5)));
        assertThat(c.allSee(victim, MemberState.DEAD)).isTrue();
        // ...and forgotten at the first probe-list reset after it: within two more passes.
        c.net.runFor(Duration.ofSeconds(5).plus(cfg.probeInterval().multipliedBy(2L * 6 + 2)));
        for (String n : c.running()) {
            assertThat(c.members.get(n).member(victim)).as(n).isNull();
            assertThat(c.members.get(n).numMembers()).isEqualTo(5);
        }
    }

    @Test
    void slowButLiveNodeIsNeverDeclaredDead() {
        GossipConfig cfg = GossipConfig.lan("x");
        SimCluster c = new SimCluster(8, GossipConfig::lan);
        c.startAndJoin(20);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        String slow = SimCluster.name(5);
        // Answers later than ProbeTimeout (so direct probes time out and indirect probes and
        // TCP pings start) but before the probe interval ends, when memberlist still takes the ack.
        Duration extra = cfg.probeInterval().minus(cfg.probeTimeout()).dividedBy(2).plus(cfg.probeTimeout());
        c.net.setSendDelay(slow, extra);
        c.net.runFor(Duration.ofMinutes(5));
        assertThat(c.falseDeaths(c.running())).isEmpty();
        assertThat(c.converged()).isTrue();
    }

    @Test
    void nodeStalledForOneSecondIsNeverDeclaredDead() {
        SimCluster c = new SimCluster(21, GossipConfig::lan);
        c.startAndJoin(10);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        for (int i = 0; i < 10; i++) {
            c.net.node(SimCluster.name(4)).pause(Duration.ofSeconds(1));
            c.net.runFor(Duration.ofSeconds(15));
        }
        assertThat(c.falseDeaths(c.running())).isEmpty();
        assertThat(c.converged()).isTrue();
    }

    @Test
    void indirectProbesKeepANodeAliveWhenOneLinkToItIsCut() {
        SimCluster c = new SimCluster(37, GossipConfig::lan);
        c.startAndJoin(8);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(30))).isTrue();
        // n000 cannot reach n001 at all (UDP or TCP), but the other six can reach both and
        // relay n000's indirect pings.
        c.net.setLinkBlocked(SimCluster.name(0), SimCluster.name(1), true);
        c.net.runFor(Duration.ofMinutes(3));
        assertThat(c.falseDeaths(c.running())).isEmpty();
        assertThat(c.converged()).isTrue();
        // Indirect acks arrive, so n000 never counts a failed probe against itself.
        assertThat(c.members.get(SimCluster.name(0)).healthScore()).isZero();
    }

    @Test
    void nodeReachableOnlyOverTcpIsKeptAliveByTheFallbackPing() {
        SimCluster c = new SimCluster(31, GossipConfig::lan);
        c.startAndJoin(8);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(30))).isTrue();
        String blocked = SimCluster.name(2);
        c.net.setUdpBlocked(blocked, true);
        c.net.runFor(Duration.ofMinutes(3));
        assertThat(c.falseDeaths(c.running())).isEmpty();
        assertThat(c.converged()).isTrue();
    }

    @Test
    void withoutTcpPingsAUdpBlockedNodeIsDeclaredDead() {
        SimCluster c = new SimCluster(31, n -> GossipConfig.lan(n).toBuilder().disableTcpPings(true).build());
        c.startAndJoin(8);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(30))).isTrue();
        String blocked = SimCluster.name(2);
        c.net.setUdpBlocked(blocked, true);
        assertThat(c.runUntil(() -> c.allSee(blocked, MemberState.DEAD), Duration.ofMinutes(2))).isTrue();
        // Cut off, the blocked node suspects everyone else and, failing probes without nacks,
        // its local health score rises (Lifeguard: it doubts itself, not only its peers).
        // (Its peers' scores may rise too: its push/pulls still get through over TCP and
        // carry its view that they are dead, which they refute, and refuting costs +1.)
        assertThat(c.members.get(blocked).healthScore()).isPositive();
    }

    @Test
    void gracefulLeaveIsSeenAsLeftNotDead() {
        SimCluster c = new SimCluster(13, GossipConfig::lan);
        c.startAndJoin(10);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        String leaver = SimCluster.name(6);
        var done = c.members.get(leaver).leave(Duration.ofSeconds(5));
        c.net.runFor(Duration.ofSeconds(5));
        assertThat(done).isCompleted();
        assertThat(done.isCompletedExceptionally()).isFalse();
        c.members.get(leaver).shutdown();
        c.net.node(leaver).crash(); // the process exits after leaving
        assertThat(c.runUntil(() -> c.allSee(leaver, MemberState.LEFT), Duration.ofSeconds(10))).isTrue();
        c.net.runFor(Duration.ofSeconds(20));
        assertThat(c.leavesOf(leaver)).allMatch(e -> e.member().state() == MemberState.LEFT);
        assertThat(c.falseDeaths(Set.copyOf(c.running()))).isEmpty();
    }

    @Test
    void restartedNodeRejoinsWithAHigherIncarnationAndIsAliveEverywhere() {
        SimCluster c = new SimCluster(17, GossipConfig::lan);
        c.startAndJoin(8);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        String victim = SimCluster.name(2);
        c.net.node(victim).crash();
        assertThat(c.runUntil(() -> c.allSee(victim, MemberState.DEAD), Duration.ofSeconds(120))).isTrue();
        long deadIncarnation = c.members.get(SimCluster.name(0)).member(victim).incarnation();

        Memberlist again = c.start(victim); // same name and address, fresh process
        again.join(java.util.List.of(c.net.node(SimCluster.name(0)).address()));
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        // The restarted node starts at incarnation 1, hears itself declared dead, and refutes
        // with an incarnation above the one it was declared dead with.
        assertThat(c.members.get(SimCluster.name(0)).member(victim).incarnation()).isGreaterThan(deadIncarnation);
    }

    @Test
    void suspectedNodeRefutesWithAHigherIncarnation() {
        SimCluster c = new SimCluster(23, GossipConfig::lan);
        c.startAndJoin(6);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        String target = SimCluster.name(3);
        long before = c.members.get(target).localMember().incarnation();
        // Cut the target off long enough for a probe to fail, but far shorter than the suspicion.
        Set<String> rest = new java.util.HashSet<>(c.running());
        rest.remove(target);
        c.net.partition(Set.of(target), rest);
        assertThat(c.runUntil(() -> c.members.values().stream().anyMatch(m -> !m.config().name().equals(target)
                && m.member(target).state() == MemberState.SUSPECT), Duration.ofSeconds(30))).isTrue();
        c.net.heal();
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(30))).isTrue();
        long after = c.members.get(target).localMember().incarnation();
        assertThat(after).isGreaterThan(before);
        assertThat(c.members.get(SimCluster.name(0)).member(target).incarnation()).isEqualTo(after);
        assertThat(c.falseDeaths(c.running())).isEmpty();
    }
}
