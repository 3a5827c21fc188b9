package io.hacluster.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.hacluster.ClusterMember;
import io.hacluster.ClusterNode;
import io.hacluster.MembershipState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;

/** Nodes without static seeds find each other through the ClusterDiscovery table alone. */
@HaClusterTest(nodes = 3, database = true, staticSeeds = false)
class HaClusterDiscoveryTest {

    @Test
    void nodesJoinThroughTheDiscoveryTableAndRejoinAfterARestart(TestCluster cluster) throws Exception {
        System.out.printf("HaClusterDiscoveryTest: 3 nodes without seeds converged in %d ms%n",
                cluster.startupTime().toMillis());
        for (int i = 0; i < 3; i++) {
            assertThat(cluster.node(i).config().clusterSettings().seeds()).isEmpty();
            assertThat(cluster.node(i).members()).extracting(ClusterMember::state).containsOnly(MembershipState.ALIVE);
        }
        assertThat(discoveryRows(cluster)).isEqualTo(3);

        cluster.crash(0);
        cluster.awaitMember(0, MembershipState.DEAD);
        ClusterNode restarted = cluster.restart(0);
        assertThat(restarted.id()).isEqualTo(cluster.ids().get(0));
        cluster.awaitConverged();
    }

    private static int discoveryRows(TestCluster cluster) throws Exception {
        try (Connection c = cluster.database().orElseThrow().primary().connect();
             PreparedStatement s = c.prepareStatement("SELECT count(*) FROM ClusterDiscovery WHERE ClusterName = ?")) {
            s.setString(1, cluster.clusterName());
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }
}
