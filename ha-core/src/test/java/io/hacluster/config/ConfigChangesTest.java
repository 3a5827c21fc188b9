package io.hacluster.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigChangesTest {

    private static final String SECRET = "S3cret-Pw";

    private static HaConfig parse(String json, Map<String, String> env) {
        return HaConfig.parse(json, env);
    }

    @Test
    void listsEffectiveChangesWithPasswordsMaskedAndSecretsNeverShown() {
        HaConfig before = parse("""
                {"ClusterSettings": {"GossipPort": 8074},
                 "SqlSettings": {"DataSource": "postgres://u:old@db1:5432/x", "AtRestEncryptKey": "k1", "Trace": false},
                 "ServiceSettings": {"SiteURL": "https://a"}}""", Map.of());
        HaConfig after = parse("""
                {"ClusterSettings": {"GossipPort": 9000},
                 "SqlSettings": {"DataSource": "postgres://u:%s@db2:5432/x", "AtRestEncryptKey": "%s", "Trace": false,
                                 "DataSourceReplicas": ["postgres://u:%s@r1:5432/x"]},
                 "JobSettings": {"CleanupConfigThresholdDays": 5},
                 "LogSettings": {"ConsoleLevel": "DEBUG"}}""".formatted(SECRET, SECRET, SECRET), Map.of());

        List<ConfigDifference> changes = ConfigChanges.between(before, after);

        assertThat(changes).extracting(ConfigDifference::setting).containsExactly(
                "ClusterSettings.GossipPort", "SqlSettings.DataSource", "SqlSettings.DataSourceReplicas",
                "JobSettings.CleanupConfigThresholdDays", "SqlSettings.AtRestEncryptKey", "LogSettings",
                "ServiceSettings");
        assertThat(changes).extracting(ConfigDifference::usedByLibrary)
                .containsExactly(true, true, true, false, false, false, false);
        assertThat(changes.get(0).before()).isEqualTo("8074");
        assertThat(changes.get(0).after()).isEqualTo("9000");
        assertThat(changes.get(1).after()).contains("db2").doesNotContain(SECRET);
        assertThat(changes.get(2).before()).isEqualTo("[]");
        assertThat(changes.get(2).after()).contains("r1").doesNotContain(SECRET);
        assertThat(changes.get(4).before()).isNull();
        assertThat(changes.get(4).after()).isNull();
        assertThat(changes.toString()).doesNotContain(SECRET).doesNotContain("k1");
        assertThat(changes.get(0).section()).isEqualTo("ClusterSettings");
        assertThat(changes.get(0).field()).isEqualTo("GossipPort");
        assertThat(changes.get(5).field()).isEmpty();
    }

    @Test
    void anOverriddenSettingDoesNotChangeWhateverTheFileSays() {
        Map<String, String> env = Map.of("HA_CLUSTERSETTINGS_GOSSIPPORT", "7000");
        HaConfig before = parse("{\"ClusterSettings\": {\"GossipPort\": 8074}}", env);
        HaConfig after = parse("{\"ClusterSettings\": {\"GossipPort\": 9000}}", env);
        assertThat(ConfigChanges.between(before, after)).isEmpty();
    }

    @Test
    void keepingTakesTheRunningFileValuesAndTheLoadedRest() {
        HaConfig running = parse("""
                {"ClusterSettings": {"GossipPort": 8074, "PeerQueueSize": 100},
                 "SqlSettings": {"MaxOpenConns": 300}, "JobSettings": {"LeaderLeaseMilliseconds": 15000}}""", Map.of());
        HaConfig loaded = parse("""
                {"ClusterSettings": {"GossipPort": 9000, "PeerQueueSize": 200},
                 "SqlSettings": {"MaxOpenConns": 100}, "JobSettings": {"LeaderLeaseMilliseconds": 20000}}""", Map.of());

        HaConfig kept = ConfigChanges.keeping(loaded, running,
                List.of("ClusterSettings.GossipPort", "JobSettings.LeaderLeaseMilliseconds"));

        assertThat(kept.clusterSettings().gossipPort()).isEqualTo(8074);
        assertThat(kept.clusterSettings().peerQueueSize()).isEqualTo(200);
        assertThat(kept.sqlSettings().maxOpenConns()).isEqualTo(100);
        assertThat(kept.jobSettings().leaderLeaseMilliseconds()).isEqualTo(15_000);
        assertThat(ConfigChanges.between(running, kept)).extracting(ConfigDifference::setting)
                .containsExactly("ClusterSettings.PeerQueueSize", "SqlSettings.MaxOpenConns");
        assertThatThrownBy(() -> ConfigChanges.keeping(loaded, running, List.of("ClusterSettings.NoSuchField")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void keepingRefusesWhatTheEnvironmentMakesDifferentAnyway() {
        HaConfig running = parse("{\"ClusterSettings\": {\"GossipPort\": 8074}}", Map.of());
        HaConfig loaded = parse("{\"ClusterSettings\": {\"GossipPort\": 8074}}",
                Map.of("HA_CLUSTERSETTINGS_GOSSIPPORT", "7000"));
        assertThatThrownBy(() -> ConfigChanges.keeping(loaded, running, List.of("ClusterSettings.GossipPort")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("environment overrides");
    }
}
