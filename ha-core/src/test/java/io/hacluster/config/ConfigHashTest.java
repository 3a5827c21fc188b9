package io.hacluster.config;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigHashTest {

    private static String hash(String json) {
        return HaConfig.parse(json, Map.of()).hash();
    }

    @Test
    void isSha256HexOfTheDocumentedCanonicalForm() throws Exception {
        HaConfig config = HaConfig.builder()
                .clusterSettings(ClusterSettings.builder().enable(true).clusterName("left-out").build())
                .otherSection("ZSettings", JsonNodeFactory.instance.objectNode().put("b", 1).put("a", "x"))
                .otherSection("ASettings", JsonNodeFactory.instance.arrayNode().add(true))
                .build();
        // Written out by hand from docs/configuration.md: sections and keys sorted, no whitespace,
        // SqlSettings and JobSettings complete with defaults (JobSettings without the node-specific
        // RunJobs and RunScheduler, with the election's Leader... settings), ClusterSettings absent.
        String canonical = "{\"ASettings\":[true],"
                + "\"JobSettings\":{\"CleanupConfigThresholdDays\":-1,\"CleanupJobsThresholdDays\":-1,"
                + "\"LeaderElectionQuorum\":0,\"LeaderLeaseMilliseconds\":15000,"
                + "\"LeaderRenewDeadlineMilliseconds\":10000,\"LeaderRetryPeriodMilliseconds\":2000},"
                + "\"SqlSettings\":{\"ConnMaxIdleTimeMilliseconds\":300000,\"ConnMaxLifetimeMilliseconds\":3600000,"
                + "\"DataSource\":\"\",\"DataSourceReplicas\":[],\"DataSourceSearchReplicas\":[],"
                + "\"DriverName\":\"postgres\",\"MaxIdleConns\":20,\"MaxOpenConns\":300,\"QueryTimeout\":30,"
                + "\"ReplicaLagSettings\":[],\"ReplicaMaxLagBytes\":16777216,\"ReplicaMaxLagMilliseconds\":10000,"
                + "\"ReplicaMonitorIntervalSeconds\":5},"
                + "\"ZSettings\":{\"a\":\"x\",\"b\":1}}";
        String expected = HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8)));
        assertThat(config.hash()).isEqualTo(expected).hasSize(64).matches("[0-9a-f]{64}");
    }

    @Test
    void equalConfigurationsHashEquallyWhateverTheirLayout() {
        String a = "{\"SqlSettings\": {\"MaxOpenConns\": 100, \"DataSource\": \"postgres://u:p@db/x\"},"
                + " \"TeamSettings\": {\"SiteName\": \"S\", \"MaxUsersPerTeam\": 5}}";
        String b = "{\"TeamSettings\":{\"MaxUsersPerTeam\":5,\"SiteName\":\"S\"},"
                + "\"sqlsettings\":{\"datasource\":\"postgres://u:p@db/x\",\"MaxOpenConns\":100,\"MaxIdleConns\":20}}";
        assertThat(hash(a)).isEqualTo(hash(b));
        assertThat(hash(TestConfigs.sampleJson())).isEqualTo(hash(TestConfigs.sampleJson()));
    }

    @Test
    void aDefaultWrittenOutEqualsADefaultLeftOut() {
        assertThat(hash("{}")).isEqualTo(hash("{\"SqlSettings\": {\"QueryTimeout\": 30, \"DriverName\": \"postgres\"}}"));
        assertThat(hash("{}")).isEqualTo(hash("{\"SqlSettings\": {\"QueryTimeout\": null}}"));
    }

    @Test
    void differsWhenAnySqlSettingDiffers() {
        String base = hash("{}");
        for (String sql : List.of(
                "{\"DataSource\": \"postgres://u:p@db/x\"}",
                "{\"MaxOpenConns\": 299}",
                "{\"QueryTimeout\": 31}",
                "{\"ReplicaMaxLagMilliseconds\": 1}",
                "{\"DataSource\": \"postgres://u:p@db/x\", \"DataSourceReplicas\": [\"postgres://u:p@r/x\"]}",
                "{\"DataSource\": \"postgres://u:p@db/x\", \"ReplicaLagSettings\": "
                        + "[{\"DataSource\": \"postgres://u:p@db/x\", \"QueryTimeLag\": \"select 1\"}]}")) {
            assertThat(hash("{\"SqlSettings\": " + sql + "}")).as(sql).isNotEqualTo(base);
        }
        // Replica order is routing order, so it counts.
        assertThat(hash("{\"SqlSettings\": {\"DataSource\": \"postgres://m/x\", "
                + "\"DataSourceReplicas\": [\"postgres://a/x\", \"postgres://b/x\"]}}"))
                .isNotEqualTo(hash("{\"SqlSettings\": {\"DataSource\": \"postgres://m/x\", "
                        + "\"DataSourceReplicas\": [\"postgres://b/x\", \"postgres://a/x\"]}}"));
    }

    @Test
    void differsWhenAnOtherSectionDiffers() {
        String base = hash("{\"ServiceSettings\": {\"SiteURL\": \"https://a\"}}");
        assertThat(hash("{\"ServiceSettings\": {\"SiteURL\": \"https://b\"}}")).isNotEqualTo(base);
        assertThat(hash("{\"ServiceSettings\": {\"SiteURL\": \"https://a\", \"X\": null}}")).isNotEqualTo(base);
        assertThat(hash("{\"ServiceSettings\": {\"SiteURL\": \"https://a\"}, \"NewSettings\": {}}")).isNotEqualTo(base);
        assertThat(hash("{}")).isNotEqualTo(base);
        // Nested values count too, at any depth.
        assertThat(hash("{\"P\": {\"a\": {\"b\": [1, {\"c\": 2}]}}}"))
                .isNotEqualTo(hash("{\"P\": {\"a\": {\"b\": [1, {\"c\": 3}]}}}"));
    }

    @Test
    void sameWhenOnlyClusterSettingsDiffer() {
        String sample = TestConfigs.sampleJson();
        HaConfig config = HaConfig.parse(sample, Map.of());
        HaConfig otherNode = config.withClusterSettings(config.clusterSettings().toBuilder()
                .overrideHostname("app2").advertiseAddress("10.0.0.2").gossipPort(9074).streamingPort(9075)
                .seeds(List.of()).enable(false).clusterName("elsewhere").gossipPreset("wan").healthPort(8080)
                .nodeIdFile("/var/lib/ha/node-id").peerQueueSize(5).build());
        assertThat(otherNode.clusterSettings()).isNotEqualTo(config.clusterSettings());
        assertThat(otherNode.hash()).isEqualTo(config.hash());
    }

    @Test
    void isTakenOverTheEffectiveConfiguration() {
        String file = "{\"SqlSettings\": {\"MaxOpenConns\": 100}}";
        String fromFile = hash(file);
        // A SqlSettings override changes the hash; a ClusterSettings override does not.
        assertThat(HaConfig.parse(file, Map.of("HA_SQLSETTINGS_MAXOPENCONNS", "200")).hash()).isNotEqualTo(fromFile);
        assertThat(HaConfig.parse(file, Map.of("HA_CLUSTERSETTINGS_GOSSIPPORT", "9000")).hash()).isEqualTo(fromFile);
        // A node configured through the environment agrees with a node configured through the file.
        assertThat(HaConfig.parse("{}", Map.of("HA_SQLSETTINGS_MAXOPENCONNS", "100")).hash()).isEqualTo(fromFile);
    }

    @Test
    void survivesSaveAndReload(@TempDir Path dir) {
        HaConfig config = HaConfig.parse(TestConfigs.sampleJson(), Map.of());
        Path file = dir.resolve("config.json");
        config.save(file);
        assertThat(HaConfig.load(file, Map.of()).hash()).isEqualTo(config.hash());
    }
}
