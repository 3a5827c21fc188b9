package io.hacluster.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.MembershipState;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Partitions, pauses and the awaits' failure reports, on a 3-node cluster without a database. */
@HaClusterTest(nodes = 3)
class HaClusterFaultsTest {

    /**
     * The isolated side is slow to declare its peers dead: nobody confirms its suspicions and
     * Lifeguard raises its own health score as its probes go unanswered, so it runs the longest
     * suspicion timeout (about 22 s measured on 2 cores, against about 2 s for a crash seen by two
     * peers). Generous, so a loaded machine does not fail the test.
     */
    private static final Duration WAIT = Duration.ofSeconds(90);

    @Test
    void eachSideOfAPartitionSeesTheOtherDeadAndHealMakesOneClusterAgain(TestCluster cluster) {
        long t0 = System.nanoTime();
        cluster.partition(List.of(0), List.of(1, 2));

        cluster.awaitMember(0, MembershipState.DEAD);  // as nodes 1 and 2 see node 0
        await().atMost(WAIT).until(() -> cluster.stateSeenBy(0, 1).equals(Optional.of(MembershipState.DEAD))
                && cluster.stateSeenBy(0, 2).equals(Optional.of(MembershipState.DEAD)));
        assertThat(cluster.stateSeenBy(1, 2)).contains(MembershipState.ALIVE);  // the majority side stays whole

        long t1 = System.nanoTime();
        cluster.heal();
        cluster.awaitConverged();
        System.out.printf("HaClusterFaultsTest: partition seen from both sides after %d ms, one cluster %d ms after heal%n",
                (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000);
    }

    @Test
    void aPausedNodeStopsAnsweringAndComesBackAfterResume(TestCluster cluster) {
        cluster.pause(2, Duration.ofMinutes(5));  // resumed by hand below, long before
        await().atMost(WAIT).until(() -> cluster.stateSeenBy(0, 2).filter(s -> s != MembershipState.ALIVE).isPresent()
                && cluster.stateSeenBy(1, 2).filter(s -> s != MembershipState.ALIVE).isPresent());
        cluster.resume(2);
        cluster.awaitConverged();
    }

    @Test
    void anAwaitThatNeverHoldsFailsWithWhatEachNodeSaw(TestCluster cluster) {
        System.out.println("HaClusterFaultsTest: a report as a failed await shows it:\n" + cluster.report());
        assertThatThrownBy(() -> cluster.awaitMember(1, MembershipState.DEAD, Duration.ofSeconds(1)))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("awaitMember(node-1, DEAD) did not hold within 1000 ms")
                .hasMessageContaining("node-0 (" + cluster.ids().get(0) + ") [up]: sees [")
                .hasMessageContaining("node-1 ALIVE")
                .hasMessageContaining("node-2 (" + cluster.ids().get(2) + ") [up]");

        cluster.crash(2);
        assertThatThrownBy(() -> cluster.awaitConverged(Duration.ZERO))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("awaitConverged() did not hold")
                .hasMessageContaining("node-2 (" + cluster.ids().get(2) + ") [crashed]: not running");
    }
}
