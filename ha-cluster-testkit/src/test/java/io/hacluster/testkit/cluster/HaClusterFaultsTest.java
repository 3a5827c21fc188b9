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

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void eachSideOfAPartitionSeesTheOtherDeadAndHealMakesOneClusterAgain(TestCluster cluster) {
        cluster.partition(List.of(0), List.of(1, 2));

        cluster.awaitMember(0, MembershipState.DEAD);  // as nodes 1 and 2 see node 0
        await().atMost(WAIT).until(() -> cluster.stateSeenBy(0, 1).equals(Optional.of(MembershipState.DEAD))
                && cluster.stateSeenBy(0, 2).equals(Optional.of(MembershipState.DEAD)));
        assertThat(cluster.stateSeenBy(1, 2)).contains(MembershipState.ALIVE);  // the majority side stays whole

        cluster.heal();
        cluster.awaitConverged();
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
