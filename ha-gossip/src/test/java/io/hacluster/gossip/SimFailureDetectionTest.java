package io.hacluster.gossip;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

/** Simulated, virtual time: crashed nodes are declared dead in bounded time, live ones never. */
class SimFailureDetectionTest {

    /** Longest one-way delay of the simulated links in these tests. */
    private static final Duration MAX_LINK_DELAY = Duration.ofMillis(2);
    /**
     * Resolution at which the test samples every survivor's view of the victim: a sampled
     * suspicion time lies up to this much after the true one, so lower bounds on "time since
     * suspicion" lose one sample and upper bounds on "time until suspicion" gain one.
     */
    private static final Duration SAMPLE = Duration.ofMillis(1);
    /** Accepted chance that the probe schedule alone would break the first-suspicion bound. */
    private static final double SCHEDULE_MISS_PROBABILITY = 1e-6;

    /**
     * Probe intervals within which at least one of {@code n - 1} live round-robin probers reaches
     * a given member, except with probability {@link #SCHEDULE_MISS_PROBABILITY}. Each prober
     * walks a freshly shuffled list of the n members, one per interval, so the victim's turn is
     * close to uniform over the next n intervals: one prober misses the first m intervals with
     * chance about (1 - m/n), all of them with (1 - m/n)^(n-1).
     */
    static int intervalsUntilSomeProberReaches(int n) {
        double perProberMiss = Math.pow(SCHEDULE_MISS_PROBABILITY, 1.0 / (n - 1));
        return (int) Math.ceil(n * (1 - perProberMiss));
    }

    /**
     * Rounds within which a broadcast reaches all n nodes: every node that has it passes it on
     * to GossipNodes random peers per gossip interval until it has sent it retransmitLimit times,
     * so the informed set grows by a factor of up to (1 + GossipNodes) per round and needs
     * ceil(log(n) / log(1 + GossipNodes)) rounds at best; allowing each hop its whole
     * retransmission budget (ceil(retransmitLimit / GossipNodes) rounds) gives the bound.
     */
    static Duration disseminationBound(GossipConfig cfg, int n) {
        int generations = (int) Math.ceil(Math.log(n) / Math.log(1 + cfg.gossipNodes()));
        int roundsPerHop = (int) Math.ceil((double) GossipMath.retransmitLimit(cfg.retransmitMult(), n)
                / cfg.gossipNodes());
        return cfg.gossipInterval().multipliedBy((long) generations * roundsPerHop);
    }

    @Test
    void crashedNodeIsDeclaredDeadByEveryOtherNodeWithinTheSuspicionBounds() {
        int n = 50;
        GossipConfig cfg = GossipConfig.lan("x");
        SimCluster c = new SimCluster(3, GossipConfig::lan);
        c.net.setDelayModel(SimulatedNetwork.DelayModel.uniform(Duration.ofMillis(1), MAX_LINK_DELAY));
        c.startAndJoin(n);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        c.net.runFor(Duration.ofSeconds(10));
        // Healthy survivors probe at the unscaled interval, which the bounds below assume.
        c.members.values().forEach(m -> assertThat(m.healthScore()).isZero());

        // memberlist's suspicion formulas for this cluster (suspectNode: k = SuspicionMult - 2).
        Duration probe = cfg.probeInterval();
        Duration min = GossipMath.suspicionTimeout(cfg.suspicionMult(), n, probe);
        Duration max = min.multipliedBy(cfg.suspicionMaxTimeoutMult());
        int k = cfg.suspicionMult() - 2;
        assertThat(n - 2).as("enough peers to confirm").isGreaterThanOrEqualTo(k);
        Duration spread = disseminationBound(cfg, n);

        String victim = SimCluster.name(17);
        long crashAt = c.net.nanoTime();
        c.net.node(victim).crash();
        List<String> survivors = c.running().stream().sorted().toList();
        Map<String, Long> suspectedAt = new HashMap<>();
        long giveUp = crashAt + Duration.ofSeconds(intervalsUntilSomeProberReaches(n) + 1L).toNanos()
                + max.plus(spread).plus(probe).toNanos();
        while (!c.allSee(victim, MemberState.DEAD) && c.net.nanoTime() < giveUp) {
            c.net.runFor(SAMPLE);
            for (String s : survivors) {
                Member v = c.members.get(s).member(victim);
                if (v != null && v.state() == MemberState.SUSPECT) {
                    suspectedAt.putIfAbsent(s, c.net.nanoTime());
                }
            }
        }
        assertThat(c.allSee(victim, MemberState.DEAD)).as("all survivors mark %s dead", victim).isTrue();
        var deaths = c.leavesOf(victim);
        assertThat(deaths).hasSize(n - 1).allMatch(e -> e.member().state() == MemberState.DEAD);
        assertThat(c.falseDeaths(c.running())).isEmpty();

        // 1. Detection: the first suspicion follows from the probe schedule. No probe can fail
        //    before a whole probe interval has passed without an ack (a ping that reached the
        //    victim before the crash was answered), and some prober reaches the victim within
        //    the round-robin bound, its probe failing one probe interval later.
        long firstSuspicion = suspectedAt.values().stream().mapToLong(Long::longValue).min().orElseThrow();
        Duration detect = Duration.ofNanos(firstSuspicion - crashAt);
        Duration detectBound = probe.multipliedBy(intervalsUntilSomeProberReaches(n) + 1L);
        assertThat(detect).isGreaterThanOrEqualTo(probe.minus(MAX_LINK_DELAY)).isLessThanOrEqualTo(detectBound);

        // 2. Suspicion: nobody declares death before the minimum timeout after the first
        //    suspicion, and every survivor does so within the maximum (a lone accuser's timer)
        //    plus the time the suspicion takes to reach it.
        long firstDeath = deaths.stream().mapToLong(SimCluster.Event::atNanos).min().orElseThrow();
        long lastDeath = deaths.stream().mapToLong(SimCluster.Event::atNanos).max().orElseThrow();
        assertThat(Duration.ofNanos(firstDeath - firstSuspicion)).isGreaterThanOrEqualTo(min.minus(SAMPLE));
        assertThat(Duration.ofNanos(lastDeath - firstSuspicion)).isLessThanOrEqualTo(max.plus(spread));
        //    Every survivor that suspected on its own clock decided within its own timer's range.
        for (SimCluster.Event e : deaths) {
            Long own = suspectedAt.get(observer(c, e));
            if (own != null) {
                assertThat(Duration.ofNanos(e.atNanos() - own)).as(observer(c, e)).isLessThanOrEqualTo(max);
            }
        }
        //    The suspicion itself reached every survivor (or the death did) within the spread.
        for (String s : survivors) {
            long heard = suspectedAt.getOrDefault(s, deathSeenBy(c, s, victim));
            assertThat(Duration.ofNanos(heard - firstSuspicion)).as(s).isLessThanOrEqualTo(spread.plus(SAMPLE));
        }

        // 3. Lifeguard: with 49 probers, k independent confirmations reach the first accuser well
        //    before min, so its timer shrinks from max all the way to min: the first death comes
        //    exactly min after the first suspicion (to the sampling resolution), not max.
        assertThat(Duration.ofNanos(firstDeath - firstSuspicion)).isLessThanOrEqualTo(min);
        //    and the dead message then reaches everyone within one dissemination.
        assertThat(Duration.ofNanos(lastDeath - firstDeath)).isLessThanOrEqualTo(spread);

        System.out.printf("crash detection n=%d: first suspicion %s (bound %s), first dead +%s after it (min %s,"
                        + " max %s), last dead +%s (bound %s)%n", n, detect, detectBound,
                Duration.ofNanos(firstDeath - firstSuspicion), min, max,
                Duration.ofNanos(lastDeath - firstSuspicion), max.plus(spread));
    }

    @Test
    void aLoneAccusersSuspicionRunsTheFullMaximum() {
        // Only the accuser probes: everyone else's probe interval is an hour, so nobody can
        // confirm its suspicion independently. Those who hear it re-gossip it with the accuser
        // as its source, which does not count (memberlist: the accuser is no confirmation).
        // Push/pull is quiet too: memberlist's mergeState turns a remote suspicion into a
        // suspect message from the local node, so a node that already suspects and then merges
        // a peer's state counts itself as a confirmer and gossips that.
        int n = 10;
        String accuser = SimCluster.name(0);
        Duration never = Duration.ofHours(1);
        SimCluster c = new SimCluster(11, name -> {
            GossipConfig.Builder b = GossipConfig.lan(name).toBuilder().pushPullInterval(never);
            return (name.equals(accuser) ? b : b.probeInterval(never)).build();
        });
        GossipConfig cfg = GossipConfig.lan(accuser).toBuilder().pushPullInterval(never).build();
        c.startAndJoin(n);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        c.net.runFor(Duration.ofSeconds(5));
        Duration min = GossipMath.suspicionTimeout(cfg.suspicionMult(), n, cfg.probeInterval());
        Duration max = min.multipliedBy(cfg.suspicionMaxTimeoutMult());
        assertThat(n - 2).as("k > 0: confirmations would be expected").isGreaterThanOrEqualTo(cfg.suspicionMult() - 2);

        String victim = SimCluster.name(7);
        c.net.node(victim).crash();
        long giveUp = c.net.nanoTime() + cfg.probeInterval().multipliedBy(2L * n).toNanos();
        while (c.members.get(accuser).member(victim).state() != MemberState.SUSPECT && c.net.nanoTime() < giveUp) {
            c.net.runFor(SAMPLE);
        }
        assertThat(c.members.get(accuser).member(victim).state()).isEqualTo(MemberState.SUSPECT);
        long suspectedAt = c.net.nanoTime();
        Duration spread = disseminationBound(cfg, n);
        assertThat(c.runUntil(() -> c.allSee(victim, MemberState.DEAD), max.plus(spread).plus(SAMPLE))).isTrue();

        long firstDeath = c.leavesOf(victim).stream().mapToLong(SimCluster.Event::atNanos).min().orElseThrow();
        long lastDeath = c.leavesOf(victim).stream().mapToLong(SimCluster.Event::atNanos).max().orElseThrow();
        // No confirmations: the accuser's timer never shrinks from the maximum.
        assertThat(Duration.ofNanos(firstDeath - suspectedAt)).isBetween(max.minus(SAMPLE), max);
        assertThat(deathSeenBy(c, accuser, victim)).isEqualTo(firstDeath);
        assertThat(Duration.ofNanos(lastDeath - firstDeath)).isLessThanOrEqualTo(spread);
    }

    @Test
    void withTooFewPeersToConfirmTheSuspicionTimerIsTheMinimum() {
        // Three nodes: n - 2 < SuspicionMult - 2, so memberlist expects no confirmations (k = 0)
        // and each survivor's timer is min from the start, however alone it is.
        int n = 3;
        GossipConfig cfg = GossipConfig.lan("x");
        assertThat(n - 2).isLessThan(cfg.suspicionMult() - 2);
        SimCluster c = new SimCluster(5, GossipConfig::lan);
        c.startAndJoin(n);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(30))).isTrue();
        c.net.runFor(Duration.ofSeconds(5));
        Duration min = GossipMath.suspicionTimeout(cfg.suspicionMult(), n, cfg.probeInterval());
        String victim = SimCluster.name(1);
        c.net.node(victim).crash();
        List<String> survivors = c.running().stream().sorted().toList();
        Map<String, Long> suspectedAt = new HashMap<>();
        long giveUp = c.net.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!c.allSee(victim, MemberState.DEAD) && c.net.nanoTime() < giveUp) {
            c.net.runFor(SAMPLE);
            for (String s : survivors) {
                Member v = c.members.get(s).member(victim);
                if (v != null && v.state() == MemberState.SUSPECT) {
                    suspectedAt.putIfAbsent(s, c.net.nanoTime());
                }
            }
        }
        assertThat(c.allSee(victim, MemberState.DEAD)).isTrue();
        // Every survivor whose own timer ran declared death exactly min after suspecting (to the
        // sampling resolution); a survivor told by the other first can only be earlier.
        for (SimCluster.Event e : c.leavesOf(victim)) {
            Long own = suspectedAt.get(observer(c, e));
            assertThat(own).as("%s suspected first", observer(c, e)).isNotNull();
            assertThat(Duration.ofNanos(e.atNanos() - own)).as(observer(c, e)).isLessThanOrEqualTo(min);
        }
        long firstSuspicion = suspectedAt.values().stream().mapToLong(Long::longValue).min().orElseThrow();
        long firstDeath = c.leavesOf(victim).stream().mapToLong(SimCluster.Event::atNanos).min().orElseThrow();
        assertThat(Duration.ofNanos(firstDeath - firstSuspicion)).isBetween(min.minus(SAMPLE), min);
    }

    private static String observer(SimCluster c, SimCluster.Event e) {
        for (var entry : c.leaves.entrySet()) {
            if (entry.getValue().contains(e)) {
                return entry.getKey();
            }
        }
        throw new AssertionError("no observer for " + e);
    }

    private static long deathSeenBy(SimCluster c, String observer, String victim) {
        return c.leaves.get(observer).stream().filter(e -> e.member().name().equals(victim))
                .mapToLong(SimCluster.Event::atNanos).min().orElseThrow();
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
    void nodeRestartedBeforeItIsDetectedOutbidsItsOldIncarnationAndSpreadsItsNewMeta() {
        SimCluster c = new SimCluster(29, GossipConfig::lan);
        c.startAndJoin(8);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(60))).isTrue();
        String victim = SimCluster.name(4);
        // Raise the old process's incarnation above the new one's starting point.
        c.members.get(victim).updateMeta("old".getBytes(UTF_8), Duration.ofSeconds(5));
        c.members.get(victim).updateMeta("old2".getBytes(UTF_8), Duration.ofSeconds(5));
        assertThat(c.runUntil(() -> c.running().stream().allMatch(n ->
                new String(c.members.get(n).member(victim).meta(), UTF_8).equals("old2")), Duration.ofSeconds(10)))
                .isTrue();
        long oldIncarnation = c.members.get(SimCluster.name(0)).member(victim).incarnation();
        assertThat(oldIncarnation).isGreaterThan(1);

        // The process dies and a new one (incarnation 1, other metadata) takes its address at once,
        // long before anyone could suspect the old one.
        c.net.node(victim).crash();
        Memberlist again = c.start(victim, b -> b.metadataProvider(limit ->
                "new".getBytes(UTF_8)));
        again.join(List.of(c.net.node(SimCluster.name(0)).address()));
        // Its alive at incarnation 1 is stale to everyone; the push/pull reply tells it about its
        // own older self, and it refutes above that incarnation with its new metadata.
        assertThat(c.runUntil(() -> c.running().stream().filter(n -> !n.equals(victim)).allMatch(n -> {
            Member m = c.members.get(n).member(victim);
            return m != null && m.state() == MemberState.ALIVE && m.incarnation() > oldIncarnation
                    && new String(m.meta(), UTF_8).equals("new");
        }), Duration.ofSeconds(30))).isTrue();
        assertThat(again.localMember().incarnation()).isGreaterThan(oldIncarnation);
        assertThat(c.falseDeaths(c.running())).isEmpty();
        // Everyone else was told of the new metadata by an update event.
        for (String n : c.running()) {
            if (!n.equals(victim)) {
                assertThat(c.updates.get(n)).as(n).anyMatch(e -> e.member().name().equals(victim)
                        && new String(e.member().meta(), UTF_8).equals("new"));
            }
        }
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
