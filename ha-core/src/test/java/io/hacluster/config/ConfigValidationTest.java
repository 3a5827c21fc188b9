package io.hacluster.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ConfigValidationTest {

    private static final String DSN = "postgres://mmuser:pw@db:5432/mattermost?sslmode=disable";

    private static List<String> clusterProblems(UnaryOperator<ClusterSettings.Builder> change) {
        return problems(change.apply(ClusterSettings.builder()).build(), SqlSettings.defaults());
    }

    private static List<String> sqlProblems(UnaryOperator<SqlSettings.Builder> change) {
        return problems(ClusterSettings.defaults(), change.apply(SqlSettings.builder().dataSource(DSN)).build());
    }

    private static List<String> problems(ClusterSettings cluster, SqlSettings sql) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> HaConfig.builder().clusterSettings(cluster).sqlSettings(sql).build());
        assertThat(e).as("expected the configuration to be rejected").isNotNull();
        assertThat(e.getMessage()).startsWith("invalid configuration (" + e.problems().size() + " problem");
        e.problems().forEach(p -> assertThat(e.getMessage()).contains(p));
        return e.problems();
    }

    private static void valid(ClusterSettings cluster, SqlSettings sql) {
        HaConfig config = HaConfig.builder().clusterSettings(cluster).sqlSettings(sql).build();
        assertThat(config.clusterSettings()).isEqualTo(cluster);
    }

    @Test
    void defaultsAreValid() {
        valid(ClusterSettings.defaults(), SqlSettings.defaults());
        valid(ClusterSettings.builder().enable(true).clusterName("c").build(),
                SqlSettings.builder().dataSource(DSN).dataSourceReplicas(List.of(DSN)).build());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65536, 100_000})
    void gossipPortOutOfRange(int port) {
        assertThat(clusterProblems(b -> b.gossipPort(port)))
                .containsExactly("ClusterSettings.GossipPort: " + port + " is out of range 1..65535");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -8075, 65536})
    void streamingPortOutOfRange(int port) {
        assertThat(clusterProblems(b -> b.streamingPort(port)))
                .containsExactly("ClusterSettings.StreamingPort: " + port + " is out of range 1..65535");
    }

    @Test
    void portRangeBoundsAreAccepted() {
        valid(ClusterSettings.builder().gossipPort(1).streamingPort(65535).healthPort(2).build(), SqlSettings.defaults());
    }

    @Test
    void gossipAndStreamingPortMustDiffer() {
        assertThat(clusterProblems(b -> b.gossipPort(9000).streamingPort(9000))).containsExactly(
                "ClusterSettings.GossipPort and ClusterSettings.StreamingPort: both are 9000; "
                        + "gossip and streaming need their own ports");
    }

    @Test
    void healthPortOutOfRangeOrTaken() {
        assertThat(clusterProblems(b -> b.healthPort(70000)))
                .containsExactly("ClusterSettings.HealthPort: 70000 is out of range 1..65535");
        assertThat(clusterProblems(b -> b.healthPort(8075))).containsExactly(
                "ClusterSettings.HealthPort: 8075 is already the gossip or streaming port; use another port, "
                        + "or 0 to turn it off");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   "})
    void clusterNameMustNotBeEmptyWhileEnabled(String name) {
        assertThat(clusterProblems(b -> b.enable(true).clusterName(name))).containsExactly(
                "ClusterSettings.ClusterName: \"" + name + "\" is empty while ClusterSettings.Enable is true; "
                        + "nodes would not know which cluster to join");
        valid(ClusterSettings.builder().enable(false).clusterName(name).build(), SqlSettings.defaults());
    }

    @Test
    void clusterNameMustFitTheDiscoveryTable() {
        String name = "n".repeat(65);
        assertThat(clusterProblems(b -> b.clusterName(name))).containsExactly(
                "ClusterSettings.ClusterName: \"" + name + "\" is 65 characters; at most 64 fit the discovery table");
        valid(ClusterSettings.builder().clusterName("n".repeat(64)).build(), SqlSettings.defaults());
    }

    @Test
    void gossipPresetMustBeKnown() {
        assertThat(clusterProblems(b -> b.gossipPreset("metro")))
                .containsExactly("ClusterSettings.GossipPreset: \"metro\" is not one of lan, wan, local");
        for (String preset : List.of("lan", "wan", "local", "LAN")) {
            valid(ClusterSettings.builder().gossipPreset(preset).build(), SqlSettings.defaults());
        }
    }

    @Test
    void seedsMustBeHostColonPort() {
        assertThat(clusterProblems(b -> b.seeds(List.of("good:8074", "nohost", ":8074", "h:0", "h:x", "h:99999",
                "::1:8074", "[::1]8074", "a b:1", "[::1]:8074"))))
                .containsExactly(
                        "ClusterSettings.Seeds[1]: \"nohost\" is not host:port: expected host:port",
                        "ClusterSettings.Seeds[2]: \":8074\" is not host:port: host is empty",
                        "ClusterSettings.Seeds[3]: \"h:0\" is not host:port: port 0 is out of range 1..65535",
                        "ClusterSettings.Seeds[4]: \"h:x\" is not host:port: port is not a number in 1..65535",
                        "ClusterSettings.Seeds[5]: \"h:99999\" is not host:port: port 99999 is out of range 1..65535",
                        "ClusterSettings.Seeds[6]: \"::1:8074\" is not host:port: an IPv6 host must be written in "
                                + "brackets, [host]:port",
                        "ClusterSettings.Seeds[7]: \"[::1]8074\" is not host:port: expected [ipv6]:port",
                        "ClusterSettings.Seeds[8]: \"a b:1\" is not host:port: host contains ' '");
    }

    @Test
    void intervalsAndSizesMustBePositive() {
        assertThat(clusterProblems(b -> b.discoveryIntervalSeconds(-1).discoveryOfflineAfterSeconds(0)
                .maxMessageSizeBytes(-5).peerQueueSize(0)))
                .containsExactly(
                        "ClusterSettings.DiscoveryIntervalSeconds: -1 must be greater than 0",
                        "ClusterSettings.DiscoveryOfflineAfterSeconds: 0 must be greater than 0",
                        "ClusterSettings.MaxMessageSizeBytes: -5 must be greater than 0",
                        "ClusterSettings.PeerQueueSize: 0 must be greater than 0");
    }

    @Test
    void offlineCutoffMustExceedTheRefreshInterval() {
        assertThat(clusterProblems(b -> b.discoveryIntervalSeconds(60).discoveryOfflineAfterSeconds(60)))
                .containsExactly("ClusterSettings.DiscoveryOfflineAfterSeconds: 60 is not more than "
                        + "ClusterSettings.DiscoveryIntervalSeconds (60); live nodes would look offline between "
                        + "two refreshes");
    }

    @Test
    void onlyPostgresIsSupported() {
        assertThat(sqlProblems(b -> b.driverName("mysql"))).singleElement().asString()
                .startsWith("SqlSettings.DriverName: \"mysql\" is not supported: ha-cluster's router speaks PostgreSQL only");
        assertThat(sqlProblems(b -> b.driverName("sqlite")))
                .containsExactly("SqlSettings.DriverName: \"sqlite\" is not supported; only postgres is");
    }

    @Test
    void everyDsnMustParse() {
        assertThat(sqlProblems(b -> b.dataSource("mysql://u:pw@h/db")
                .dataSourceReplicas(List.of(DSN, "postgres://u:pw@h:port/db"))
                .dataSourceSearchReplicas(List.of("postgres://u:pw@a,b/db"))
                .replicaLagSettings(List.of(new ReplicaLagSetting("nonsense", "select 1", "")))))
                .containsExactly(
                        // A DSN that does not parse is never quoted, not even masked (issue 10).
                        "SqlSettings.DataSource: invalid PostgreSQL DSN: this is a MySQL DSN; only PostgreSQL is "
                                + "supported (postgres://user:password@host:5432/db)",
                        "SqlSettings.DataSourceReplicas[1]: invalid PostgreSQL DSN: port is not a number",
                        "SqlSettings.DataSourceSearchReplicas[0]: invalid PostgreSQL DSN: "
                                + "more than one host; give each server its own DSN (master and replicas are listed "
                                + "separately)",
                        "SqlSettings.ReplicaLagSettings[0].DataSource: invalid PostgreSQL DSN: expected "
                                + "postgres://, postgresql:// or jdbc:postgresql:// followed by the host");
    }

    @Test
    void jdbcDsnsAreAccepted() {
        valid(ClusterSettings.defaults(), SqlSettings.builder()
                .dataSource("jdbc:postgresql://db:5432/app?user=u&password=p")
                .dataSourceSearchReplicas(List.of("postgresql://u@search:5433/app")).build());
    }

    @Test
    void replicasNeedAMaster() {
        assertThat(problems(ClusterSettings.defaults(), SqlSettings.builder().dataSourceReplicas(List.of(DSN)).build()))
                .containsExactly("SqlSettings.DataSource: is empty but replicas are configured; replicas need a master");
        assertThat(problems(ClusterSettings.defaults(),
                SqlSettings.builder().dataSourceSearchReplicas(List.of(DSN)).build()))
                .containsExactly("SqlSettings.DataSource: is empty but replicas are configured; replicas need a master");
    }

    @Test
    void lagEntriesNeedAQuery() {
        assertThat(sqlProblems(b -> b.replicaLagSettings(List.of(new ReplicaLagSetting(DSN, " ", "")))))
                .containsExactly("SqlSettings.ReplicaLagSettings[0]: has neither QueryAbsoluteLag nor QueryTimeLag; "
                        + "give at least one query");
    }

    @Test
    void poolSizes() {
        assertThat(sqlProblems(b -> b.maxIdleConns(-1).maxOpenConns(0))).containsExactly(
                "SqlSettings.MaxIdleConns: -1 must not be negative",
                "SqlSettings.MaxOpenConns: 0 must be greater than 0");
        assertThat(sqlProblems(b -> b.maxIdleConns(51).maxOpenConns(50))).containsExactly(
                "SqlSettings.MaxIdleConns: 51 is more than SqlSettings.MaxOpenConns (50)");
        valid(ClusterSettings.defaults(), SqlSettings.builder().maxIdleConns(50).maxOpenConns(50).build());
        valid(ClusterSettings.defaults(), SqlSettings.builder().maxIdleConns(0).maxOpenConns(1).build());
    }

    @Test
    void negativeDurationsIntervalsAndLagLimits() {
        assertThat(sqlProblems(b -> b.connMaxLifetimeMilliseconds(-1).connMaxIdleTimeMilliseconds(-2).queryTimeout(-3)
                .replicaMonitorIntervalSeconds(0).replicaMaxLagBytes(-4).replicaMaxLagMilliseconds(-5)))
                .containsExactly(
                        "SqlSettings.ConnMaxLifetimeMilliseconds: -1 must not be negative",
                        "SqlSettings.ConnMaxIdleTimeMilliseconds: -2 must not be negative",
                        "SqlSettings.QueryTimeout: -3 must not be negative",
                        "SqlSettings.ReplicaMonitorIntervalSeconds: 0 must be greater than 0",
                        "SqlSettings.ReplicaMaxLagBytes: -4 must not be negative",
                        "SqlSettings.ReplicaMaxLagMilliseconds: -5 must not be negative");
        // Zero means "no limit" (lifetimes, timeout) or "no lag tolerated" (lag limits): allowed.
        valid(ClusterSettings.defaults(), SqlSettings.builder().connMaxLifetimeMilliseconds(0)
                .connMaxIdleTimeMilliseconds(0).queryTimeout(0).replicaMaxLagBytes(0).replicaMaxLagMilliseconds(0)
                .build());
    }

    @Test
    void everyProblemIsReportedInOneException() {
        List<String> problems = problems(
                ClusterSettings.builder().enable(true).gossipPort(0).streamingPort(0).gossipPreset("x").build(),
                SqlSettings.builder().dataSource("bad").maxOpenConns(-1).build());
        assertThat(problems).containsExactly(
                "ClusterSettings.GossipPort: 0 is out of range 1..65535",
                "ClusterSettings.StreamingPort: 0 is out of range 1..65535",
                "ClusterSettings.GossipPort and ClusterSettings.StreamingPort: both are 0; "
                        + "gossip and streaming need their own ports",
                "ClusterSettings.ClusterName: \"\" is empty while ClusterSettings.Enable is true; "
                        + "nodes would not know which cluster to join",
                "ClusterSettings.GossipPreset: \"x\" is not one of lan, wan, local",
                "SqlSettings.DataSource: invalid PostgreSQL DSN: expected postgres://, postgresql:// or "
                        + "jdbc:postgresql:// followed by the host",
                "SqlSettings.MaxOpenConns: -1 must be greater than 0");
    }

    @Test
    void validationAppliesToTheEffectiveSettingsAndNamesTheOverrides() {
        String file = "{\"ClusterSettings\": {\"GossipPort\": 9000, \"StreamingPort\": 9001}}";
        assertThatThrownBy(() -> HaConfig.parse(file, Map.of("HA_CLUSTERSETTINGS_STREAMINGPORT", "9000")))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("invalid configuration (with environment overrides of "
                        + "ClusterSettings.StreamingPort) (1 problem):")
                .hasMessageContaining("both are 9000");
        // An override can also repair a bad file value: what runs is what is checked.
        HaConfig repaired = HaConfig.parse("{\"ClusterSettings\": {\"GossipPort\": 0}}",
                Map.of("HA_CLUSTERSETTINGS_GOSSIPPORT", "9000"));
        assertThat(repaired.clusterSettings().gossipPort()).isEqualTo(9000);
    }

    @Test
    void withSettingsValidatesToo() {
        HaConfig config = HaConfig.builder().build();
        assertThatThrownBy(() -> config.withClusterSettings(ClusterSettings.builder().gossipPort(-1).build()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("ClusterSettings.GossipPort: -1");
        assertThatThrownBy(() -> config.withSqlSettings(SqlSettings.builder().maxOpenConns(0).build()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("SqlSettings.MaxOpenConns: 0");
    }
}
