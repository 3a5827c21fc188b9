package io.hacluster.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.ClusterNodeBuilder;
import io.hacluster.MembershipState;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * A pause shorter than the suspicion timeout: the peers suspect the node, never declare it dead,
 * and see it alive again once it answers. The builder-form customizer widens the suspicion
 * timeout (memberlist's SuspicionMult 40 instead of the local preset's 3: about 19 s at the least
 * for 3 nodes), so "shorter" holds on a loaded machine; the pause ends as soon as both peers
 * suspect, not after a guessed duration.
 */
@HaClusterTest(nodes = 3, customizer = "slowSuspicion")
class HaClusterPauseTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    static void slowSuspicion(int index, ClusterNodeBuilder builder) {
        builder.gossipTuning(gossip -> gossip.suspicionMult(40));
    }

    @Test
    void aShortPauseIsSuspectedThenAliveAgainNeverDead(TestCluster cluster) {
        Set<MembershipState> seen = ConcurrentHashMap.newKeySet();
        cluster.pause(2, Duration.ofMinutes(5));  // resumed below, once suspected
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> {
            MembershipState a = cluster.stateSeenBy(0, 2).orElseThrow();
            MembershipState b = cluster.stateSeenBy(1, 2).orElseThrow();
            seen.add(a);
            seen.add(b);
            return a == MembershipState.SUSPECT && b == MembershipState.SUSPECT;
        });
        cluster.resume(2);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> {
            MembershipState a = cluster.stateSeenBy(0, 2).orElseThrow();
            MembershipState b = cluster.stateSeenBy(1, 2).orElseThrow();
            seen.add(a);
            seen.add(b);
            return a == MembershipState.ALIVE && b == MembershipState.ALIVE;
        });
        cluster.awaitConverged();
        assertThat(seen).contains(MembershipState.SUSPECT).doesNotContain(MembershipState.DEAD, MembershipState.LEFT);
    }
}
