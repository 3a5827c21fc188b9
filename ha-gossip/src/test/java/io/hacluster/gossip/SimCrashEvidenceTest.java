package io.hacluster.gossip;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Memberlist#probeCrash} in virtual time: refusal evidence on a live host takes the fast
 * path, while a lost host (nothing answers) and a stalled process (its kernel still accepts) fall
 * back to the ordinary probe and suspicion path, unchanged.
 */
class SimCrashEvidenceTest {

    private static final int N = 5;
    private static final String VICTIM = SimCluster.name(N - 1);

    private static SimCluster converged(long seed, boolean fast) {
        SimCluster c = new SimCluster(seed, name -> GossipConfig.lan(name).toBuilder().fastCrashDetection(fast).build());
        c.startAndJoin(N);
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(30))).as("ring converged").isTrue();
        return c;
    }

    /** Every survivor asks for a crash probe at once, as each one's streaming connection would end. */
    private static List<CompletableFuture<CrashProbeResult>> everySurvivorProbes(SimCluster c, String target) {
        List<CompletableFuture<CrashProbeResult>> out = new ArrayList<>();
        c.members.forEach((name, m) -> {
            if (!name.equals(target)) {
                out.add(m.probeCrash(target, List.of()));
            }
        });
        return out;
    }

    private static long sum(SimCluster c, java.util.function.ToLongFunction<GossipStats> f) {
        return c.members.entrySet().stream().filter(e -> !e.getKey().equals(VICTIM))
                .mapToLong(e -> f.applyAsLong(e.getValue().stats())).sum();
    }

    private static List<String> suspicionsOf(SimCluster c, String target) {
        List<String> out = new ArrayList<>();
        c.suspects.forEach((obs, evs) -> evs.stream().filter(e -> e.member().name().equals(target))
                .forEach(e -> out.add(obs)));
        return out;
    }

    @Test
    void aCrashOnALiveHostIsDeclaredDeadOnTheEvidenceWithoutSuspicion() {
        SimCluster c = converged(41, true);
        c.net.node(VICTIM).crash();
        List<CompletableFuture<CrashProbeResult>> probes = everySurvivorProbes(c, VICTIM);

        assertThat(c.runUntil(() -> c.allSee(VICTIM, MemberState.DEAD), Duration.ofSeconds(30))).isTrue();
        assertThat(c.runUntil(() -> probes.stream().allMatch(CompletableFuture::isDone), Duration.ofSeconds(5))).isTrue();
        assertThat(probes).allSatisfy(p -> assertThat(p.join()).isEqualTo(CrashProbeResult.DEAD));
        assertThat(sum(c, GossipStats::fastPathDeaths)).as("declared by the fast path").isGreaterThanOrEqualTo(1);
        assertThat(sum(c, GossipStats::fastPathAborts)).isZero();
        // the ordinary path would have suspected it first; the fast path never does
        assertThat(suspicionsOf(c, VICTIM)).isEmpty();
        assertThat(c.leavesOf(VICTIM)).allSatisfy(e -> assertThat(e.member().state()).isEqualTo(MemberState.DEAD));
    }

    @Test
    void withTheSwitchOffACrashTakesTheOrdinaryPath() {
        SimCluster c = converged(41, false);
        c.net.node(VICTIM).crash();
        List<CompletableFuture<CrashProbeResult>> probes = everySurvivorProbes(c, VICTIM);
        assertThat(c.runUntil(() -> c.allSee(VICTIM, MemberState.DEAD), Duration.ofSeconds(60))).isTrue();
        assertThat(probes).allSatisfy(p -> assertThat(p.join()).isEqualTo(CrashProbeResult.SKIPPED));
        assertThat(sum(c, GossipStats::fastPathDeaths)).isZero();
        assertThat(suspicionsOf(c, VICTIM)).as("the ordinary path suspects first").isNotEmpty();
    }

    @Test
    void aLostHostNeverTakesTheFastPathAndIsFoundByTheOrdinaryPath() {
        SimCluster c = converged(43, true);
        long lostAt = c.net.nanoTime();
        c.net.node(VICTIM).loseHost();
        List<CompletableFuture<CrashProbeResult>> probes = everySurvivorProbes(c, VICTIM);

        assertThat(c.runUntil(() -> probes.stream().allMatch(CompletableFuture::isDone), Duration.ofSeconds(5))).isTrue();
        assertThat(probes).allSatisfy(p -> assertThat(p.join()).isEqualTo(CrashProbeResult.NO_EVIDENCE));
        assertThat(c.runUntil(() -> c.allSee(VICTIM, MemberState.DEAD), Duration.ofSeconds(60))).isTrue();
        assertThat(sum(c, GossipStats::fastPathDeaths)).isZero();
        assertThat(sum(c, GossipStats::fastPathAborts)).isEqualTo(N - 1);
        assertThat(suspicionsOf(c, VICTIM)).as("found through suspicion, as before").isNotEmpty();
        // in virtual time, no survivor declared it dead before a suspicion could have run out
        long suspicionMin = GossipMath.suspicionTimeout(4, N, Duration.ofSeconds(1)).toNanos();
        assertThat(c.leavesOf(VICTIM)).allSatisfy(e -> assertThat(e.atNanos() - lostAt).isGreaterThan(suspicionMin));
    }

    @Test
    void aPartitionedNodeNeverTakesTheFastPath() {
        SimCluster c = converged(44, true);
        c.net.setLinkBlocked(SimCluster.name(0), VICTIM, true);
        CompletableFuture<CrashProbeResult> probe = c.members.get(SimCluster.name(0)).probeCrash(VICTIM, List.of());
        assertThat(c.runUntil(probe::isDone, Duration.ofSeconds(5))).isTrue();
        // the others still reach it: their indirect pings ack, or the connect times out
        assertThat(probe.join()).isIn(CrashProbeResult.ALIVE, CrashProbeResult.NO_EVIDENCE);
        c.net.runFor(Duration.ofSeconds(30));
        assertThat(c.falseDeaths(java.util.Set.of(VICTIM))).isEmpty();
        assertThat(sum(c, GossipStats::fastPathDeaths)).isZero();
    }

    @Test
    void aStalledProcessKeepsAcceptingAndIsNeverDeclaredDead() {
        SimCluster c = converged(45, true);
        c.net.node(VICTIM).pause(Duration.ofSeconds(3));
        List<CompletableFuture<CrashProbeResult>> probes = everySurvivorProbes(c, VICTIM);

        assertThat(c.runUntil(() -> probes.stream().allMatch(CompletableFuture::isDone), Duration.ofSeconds(5))).isTrue();
        assertThat(probes).allSatisfy(p -> assertThat(p.join()).isEqualTo(CrashProbeResult.NO_EVIDENCE));
        c.net.runFor(Duration.ofSeconds(30));
        assertThat(c.falseDeaths(java.util.Set.of(VICTIM))).isEmpty();
        assertThat(sum(c, GossipStats::fastPathDeaths)).isZero();
        assertThat(c.converged()).isTrue();
    }

    @Test
    void anExtraAddressThatDoesNotRefuseBlocksTheFastPath() {
        SimCluster c = converged(46, true);
        c.net.node(VICTIM).crash();
        // an address nobody holds answers nothing: no refusal, so no verdict
        InetSocketAddress nowhere = new InetSocketAddress("10.250.0.1", 8075);
        CompletableFuture<CrashProbeResult> probe = c.members.get(SimCluster.name(0)).probeCrash(VICTIM, List.of(nowhere));
        assertThat(c.runUntil(probe::isDone, Duration.ofSeconds(5))).isTrue();
        assertThat(probe.join()).isEqualTo(CrashProbeResult.NO_EVIDENCE);
        assertThat(c.members.get(SimCluster.name(0)).stats().fastPathDeaths()).isZero();
    }

    @Test
    void repeatedRequestsJoinTheRunningProbeAndUnknownNodesAreSkipped() {
        SimCluster c = converged(47, true);
        Memberlist observer = c.members.get(SimCluster.name(0));
        CompletableFuture<CrashProbeResult> first = observer.probeCrash(VICTIM, List.of());
        CompletableFuture<CrashProbeResult> second = observer.probeCrash(VICTIM, List.of());
        CompletableFuture<CrashProbeResult> unknown = observer.probeCrash("nobody", List.of());
        CompletableFuture<CrashProbeResult> self = observer.probeCrash(SimCluster.name(0), List.of());
        assertThat(c.runUntil(() -> first.isDone() && second.isDone() && unknown.isDone() && self.isDone(),
                Duration.ofSeconds(5))).isTrue();
        assertThat(first.join()).isEqualTo(CrashProbeResult.ALIVE);
        assertThat(second.join()).isEqualTo(CrashProbeResult.ALIVE);
        assertThat(unknown.join()).isEqualTo(CrashProbeResult.SKIPPED);
        assertThat(self.join()).isEqualTo(CrashProbeResult.SKIPPED);
        // within a probe interval of the last one, a new request is skipped
        CompletableFuture<CrashProbeResult> again = observer.probeCrash(VICTIM, List.of());
        assertThat(c.runUntil(again::isDone, Duration.ofSeconds(1))).isTrue();
        assertThat(again.join()).isEqualTo(CrashProbeResult.SKIPPED);
        assertThat(observer.stats().fastPathAborts()).isEqualTo(1);
    }

    @Test
    void aRestartAfterAFastDeathRejoinsWithAHigherIncarnation() {
        SimCluster c = converged(48, true);
        long before = c.members.get(SimCluster.name(0)).member(VICTIM).incarnation();
        c.net.node(VICTIM).crash();
        everySurvivorProbes(c, VICTIM);
        assertThat(c.runUntil(() -> c.allSee(VICTIM, MemberState.DEAD), Duration.ofSeconds(30))).isTrue();

        Memberlist restarted = c.start(VICTIM);
        restarted.join(List.of(c.net.node(SimCluster.name(0)).address()));
        assertThat(c.runUntil(() -> c.allSee(VICTIM, MemberState.ALIVE), Duration.ofSeconds(30))).isTrue();
        assertThat(c.members.get(SimCluster.name(0)).member(VICTIM).incarnation()).isGreaterThan(before);
    }
}
