package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.hacluster.config.HaConfig;
import io.hacluster.config.JobSettings;
import io.hacluster.election.LeaseSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Where a node's election settings come from: {@code ClusterNodeBuilder.leaseSettings(...)} and
 * {@code electionQuorum(...)} when the application called them, else the configuration's
 * JobSettings (file, then {@code HA_JOBSETTINGS_...} variables), else the defaults.
 */
class ClusterNodeBuilderElectionSettingsTest {

    private static final String FILE = "{\"ClusterSettings\": {\"Enable\": true, \"ClusterName\": \"prec\"}, "
            + "\"JobSettings\": {\"LeaderLeaseMilliseconds\": 6000, \"LeaderRenewDeadlineMilliseconds\": 3000, "
            + "\"LeaderRetryPeriodMilliseconds\": 500, \"LeaderElectionQuorum\": 2}}";

    @Test
    void theConfigurationAppliesWhenTheApplicationSetsNothing() {
        HaConfig config = HaConfig.parse(FILE, Map.of("HA_JOBSETTINGS_LEADERRETRYPERIODMILLISECONDS", "300"));
        ClusterNodeBuilder b = ClusterNode.builder().config(config);
        assertThat(b.effectiveLeaseSettings(config)).isEqualTo(new LeaseSettings(Duration.ofSeconds(6),
                Duration.ofSeconds(3), Duration.ofMillis(300)));
        assertThat(b.effectiveElectionQuorum(config)).isEqualTo(2);
    }

    @Test
    void explicitBuilderCallsWinOverTheConfiguration() {
        HaConfig config = HaConfig.parse(FILE, Map.of("HA_JOBSETTINGS_LEADERELECTIONQUORUM", "3"));
        LeaseSettings explicit = new LeaseSettings(Duration.ofSeconds(20), Duration.ofSeconds(12), Duration.ofSeconds(3));
        ClusterNodeBuilder b = ClusterNode.builder().config(config).leaseSettings(explicit).electionQuorum(0);
        assertThat(b.effectiveLeaseSettings(config)).isEqualTo(explicit);
        assertThat(b.effectiveElectionQuorum(config)).as("an explicit 0 is a choice, not 'unset'").isZero();
    }

    @Test
    void withoutEitherTheDefaultsApply() {
        HaConfig config = HaConfig.parse("{\"ClusterSettings\": {\"Enable\": true, \"ClusterName\": \"d\"}}", Map.of());
        ClusterNodeBuilder b = ClusterNode.builder().config(config);
        assertThat(b.effectiveLeaseSettings(config)).isEqualTo(LeaseSettings.defaults());
        assertThat(b.effectiveElectionQuorum(config)).isZero();
    }

    /** The precedence as a running node shows it: a quorum of 2 from JobSettings keeps a lone node from leading. */
    @Test
    void aRunningNodeUsesTheConfiguredQuorumUnlessTheBuilderOverridesIt() throws Exception {
        String cluster = TestNodes.clusterName();
        JobSettings quorumOfTwo = JobSettings.builder().leaderElectionQuorum(2).build();
        ClusterNode configured = ClusterNode.builder().clusterSettings(TestNodes.settings(cluster, List.of()).build())
                .jobSettings(quorumOfTwo).joinTimeout(Duration.ofSeconds(5)).build();
        ClusterNode overridden = ClusterNode.builder()
                .clusterSettings(TestNodes.settings(TestNodes.clusterName(), List.of()).build())
                .jobSettings(quorumOfTwo).electionQuorum(1).joinTimeout(Duration.ofSeconds(5)).build();
        try {
            overridden.start();
            assertThat(overridden.awaitLeader(Duration.ofSeconds(20))).as("quorum 1 from the builder: a lone node leads")
                    .hasValueSatisfying(l -> assertThat(l.id()).isEqualTo(overridden.id()));
            configured.start();
            // the same wait that sufficed for the other lone node: with quorum 2 no leader may appear
            assertThat(configured.awaitLeader(Duration.ofSeconds(3))).as("quorum 2 from JobSettings").isEmpty();
            assertThat(configured.isLeader()).isFalse();
        } finally {
            configured.close();
            overridden.close();
        }
    }
}
