package io.hacluster.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.ClusterMember;
import io.hacluster.ClusterMessage;
import io.hacluster.ClusterNode;
import io.hacluster.MembershipState;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** A 3-node cluster with a PostgreSQL primary and one replica, through the annotation. */
@HaClusterTest(nodes = 3, database = true, replicas = 1, customizer = "handlers")
class HaClusterDatabaseTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    /** What each node's handler received, by node index: proves the customizer runs per start. */
    private static final Map<Integer, List<String>> RECEIVED = new ConcurrentHashMap<>();

    static void handlers(int index, ClusterNode node) {
        RECEIVED.put(index, java.util.Collections.synchronizedList(new ArrayList<>()));
        node.registerHandler("test-evict", message -> RECEIVED.get(index)
                .add(new String(message.message().data(), StandardCharsets.UTF_8)));
    }

    @Test
    void comesUpConvergedWithALeaderAndTheApplicationsHandlers(TestCluster cluster) throws Exception {
        System.out.printf("HaClusterDatabaseTest: 3 nodes with a database up and converged in %d ms"
                + " (nodes only: the class's PostgreSQL topology started before)%n",
                cluster.startupTime().toMillis());
        Set<String> ids = Set.copyOf(cluster.ids());
        for (int i = 0; i < 3; i++) {
            assertThat(cluster.node(i).members()).extracting(ClusterMember::id).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(cluster.node(i).members()).allSatisfy(m -> assertThat(m.state()).isEqualTo(MembershipState.ALIVE));
            assertThat(cluster.node(i).database()).isPresent();
        }
        ClusterNode leader = cluster.awaitLeader();
        assertThat(leader.leader().orElseThrow().fencingToken()).isPositive();  // a database lease, not gossip only

        cluster.node(0).send(ClusterMessage.reliable("test-evict", "user:42".getBytes(StandardCharsets.UTF_8))).get();
        await().atMost(WAIT).until(() -> RECEIVED.get(1).contains("user:42") && RECEIVED.get(2).contains("user:42"));
    }

    @Test
    void aCrashedNodeIsDeadToItsPeersNeverLeftAndRestartsUnderItsId(TestCluster cluster) throws Exception {
        String crashedId = cluster.ids().get(2);
        cluster.crash(2);
        Set<MembershipState> seen = ConcurrentHashMap.newKeySet();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> {
            MembershipState a = cluster.stateSeenBy(0, 2).orElse(null);
            MembershipState b = cluster.stateSeenBy(1, 2).orElse(null);
            if (a != null) {
                seen.add(a);
            }
            if (b != null) {
                seen.add(b);
            }
            return a == MembershipState.DEAD && b == MembershipState.DEAD;
        });
        assertThat(seen).doesNotContain(MembershipState.LEFT);
        cluster.awaitMember(2, MembershipState.DEAD);

        ClusterNode restarted = cluster.restart(2);
        assertThat(restarted.id()).isEqualTo(crashedId);
        cluster.awaitConverged();
        RECEIVED.get(2).clear();
        cluster.node(0).send(ClusterMessage.reliable("test-evict", "after-restart".getBytes(StandardCharsets.UTF_8))).get();
        await().atMost(WAIT).until(() -> RECEIVED.get(2).contains("after-restart"));  // handlers again after restart
    }
}
