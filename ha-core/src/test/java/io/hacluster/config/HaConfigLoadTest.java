package io.hacluster.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HaConfigLoadTest {

    @TempDir
    Path dir;

    private Path write(String json) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, json);
        return file;
    }

    @Test
    void readsOurSectionsFromAMattermostConfigFile() throws IOException {
        HaConfig config = HaConfig.load(write(TestConfigs.sampleJson()), Map.of());

        ClusterSettings cluster = config.clusterSettings();
        assertThat(cluster.enable()).isTrue();
        assertThat(cluster.clusterName()).isEqualTo("prod");
        assertThat(cluster.useIpAddress()).isTrue();
        assertThat(cluster.enableGossipCompression()).isFalse();
        assertThat(cluster.seeds()).containsExactly("app1.internal:8074", "10.0.0.12:8074", "[fd00::12]:8074");
        assertThat(cluster.seedAddresses()).extracting(a -> a.getHostString() + "/" + a.getPort())
                .containsExactly("app1.internal/8074", "10.0.0.12/8074", "fd00::12/8074");
        // Fields the file leaves out keep their defaults.
        assertThat(cluster.gossipPreset()).isEqualTo("lan");
        assertThat(cluster.peerQueueSize()).isEqualTo(10_000);

        SqlSettings sql = config.sqlSettings();
        assertThat(sql.dataSource()).contains("db-primary").contains(TestConfigs.MASTER_PASSWORD);
        assertThat(sql.dataSourceReplicas()).hasSize(1);
        assertThat(sql.maxIdleConns()).isEqualTo(50);
        assertThat(sql.maxOpenConns()).isEqualTo(100);
        assertThat(sql.replicaMaxLagBytes()).isEqualTo(16L * 1024 * 1024);
        // A null inside a lag entry means "default", as a nil pointer does in Mattermost.
        assertThat(sql.replicaLagSettings()).singleElement().satisfies(lag -> {
            assertThat(lag.queryAbsoluteLag()).startsWith("select usename");
            assertThat(lag.queryTimeLag()).isEmpty();
        });
        assertThat(config.environmentOverrides()).isEmpty();
    }

    @Test
    void keepsOtherSectionsUnreadAndInOrder() {
        HaConfig config = HaConfig.parse(TestConfigs.sampleJson(), Map.of());

        Map<String, JsonNode> others = config.otherSections();
        assertThat(others.keySet()).containsExactly("ServiceSettings", "TeamSettings", "PluginSettings");
        assertThat(others.get("PluginSettings").at("/Plugins/com.example.plugin/Token").asText())
                .isEqualTo("plugin-token");
        // Callers get copies: changing one does not change the configuration.
        ((ObjectNode) others.get("TeamSettings")).put("SiteName", "changed");
        assertThat(config.otherSections().get("TeamSettings").get("SiteName").asText()).isEqualTo("Example Chat");
    }

    @Test
    void missingSectionsAndEmptyFileMeanDefaults() {
        HaConfig config = HaConfig.parse("{}", Map.of());
        assertThat(config.clusterSettings()).isEqualTo(ClusterSettings.defaults());
        assertThat(config.sqlSettings()).isEqualTo(SqlSettings.defaults());

        HaConfig nullSections = HaConfig.parse("{\"ClusterSettings\": null, \"SqlSettings\": {\"MaxIdleConns\": null}}",
                Map.of());
        assertThat(nullSections.clusterSettings()).isEqualTo(ClusterSettings.defaults());
        assertThat(nullSections.sqlSettings()).isEqualTo(SqlSettings.defaults());
    }

    @Test
    void defaultsAreMattermosts() {
        ClusterSettings c = ClusterSettings.defaults();
        assertThat(c.enable()).isFalse();
        assertThat(c.clusterName()).isEmpty();
        assertThat(c.overrideHostname()).isEmpty();
        assertThat(c.networkInterface()).isEmpty();
        assertThat(c.bindAddress()).isEmpty();
        assertThat(c.advertiseAddress()).isEmpty();
        assertThat(c.useIpAddress()).isTrue();
        assertThat(c.enableGossipCompression()).isTrue();
        assertThat(c.enableExperimentalGossipEncryption()).isFalse();
        assertThat(c.readOnlyConfig()).isTrue();
        assertThat(c.gossipPort()).isEqualTo(8074);
        assertThat(c.streamingPort()).isEqualTo(8075);
        assertThat(c.seeds()).isEmpty();
        assertThat(c.gossipPreset()).isEqualTo("lan");
        assertThat(c.discoveryIntervalSeconds()).isEqualTo(60);
        assertThat(c.discoveryOfflineAfterSeconds()).isEqualTo(1800);
        assertThat(c.healthPort()).isZero();
        assertThat(c.nodeIdFile()).isEmpty();
        assertThat(c.maxMessageSizeBytes()).isEqualTo(16_777_216);
        assertThat(c.peerQueueSize()).isEqualTo(10_000);

        SqlSettings s = SqlSettings.defaults();
        assertThat(s.driverName()).isEqualTo("postgres");
        assertThat(s.dataSource()).isEmpty();
        assertThat(s.dataSourceReplicas()).isEmpty();
        assertThat(s.dataSourceSearchReplicas()).isEmpty();
        assertThat(s.maxIdleConns()).isEqualTo(20);
        assertThat(s.maxOpenConns()).isEqualTo(300);
        assertThat(s.connMaxLifetimeMilliseconds()).isEqualTo(3_600_000);
        assertThat(s.connMaxIdleTimeMilliseconds()).isEqualTo(300_000);
        assertThat(s.queryTimeout()).isEqualTo(30);
        assertThat(s.queryTimeoutDuration()).hasSeconds(30);
        assertThat(s.replicaLagSettings()).isEmpty();
        assertThat(s.replicaMonitorIntervalSeconds()).isEqualTo(5);
        assertThat(s.replicaMaxLagBytes()).isEqualTo(16_777_216);
        assertThat(s.replicaMaxLagMilliseconds()).isEqualTo(10_000);
    }

    @Test
    void fieldAndSectionNamesMatchCaseInsensitivelyAndUseIpAddressHasBothSpellings() {
        HaConfig lower = HaConfig.parse("{\"clustersettings\": {\"useipaddress\": false, \"GOSSIPPORT\": 9000}}", Map.of());
        assertThat(lower.clusterSettings().useIpAddress()).isFalse();
        assertThat(lower.clusterSettings().gossipPort()).isEqualTo(9000);

        assertThat(HaConfig.parse("{\"ClusterSettings\": {\"UseIPAddress\": false}}", Map.of())
                .clusterSettings().useIpAddress()).isFalse();
        assertThat(HaConfig.parse("{\"ClusterSettings\": {\"UseIpAddress\": false}}", Map.of())
                .clusterSettings().useIpAddress()).isFalse();
    }

    @Test
    void fastCrashDetectionIsOnByDefaultAndCanBeTurnedOffInTheFileOrTheEnvironment() {
        assertThat(HaConfig.parse("{}", Map.of()).clusterSettings().enableFastCrashDetection()).isTrue();
        assertThat(HaConfig.parse("{\"ClusterSettings\": {\"EnableFastCrashDetection\": false}}", Map.of())
                .clusterSettings().enableFastCrashDetection()).isFalse();
        assertThat(HaConfig.parse("{}", Map.of("HA_CLUSTERSETTINGS_ENABLEFASTCRASHDETECTION", "false"))
                .clusterSettings().enableFastCrashDetection()).isFalse();
    }

    @Test
    void environmentOverridesEachKindOfSetting() throws IOException {
        Map<String, String> env = Map.of(
                "HA_CLUSTERSETTINGS_ENABLEGOSSIPCOMPRESSION", "true",              // boolean
                "HA_CLUSTERSETTINGS_GOSSIPPORT", "9074",                           // int
                "HA_CLUSTERSETTINGS_OVERRIDEHOSTNAME", "app2.internal",            // string
                "HA_CLUSTERSETTINGS_SEEDS", "app3:9074  app4:9074",                // list, split on spaces
                "HA_SQLSETTINGS_REPLICAMAXLAGBYTES", "1048576",                    // long
                "HA_SQLSETTINGS_DATASOURCESEARCHREPLICAS",
                "postgres://u:p@search1/db postgres://u:p@search2/db",
                "HA_SQLSETTINGS_REPLICALAGSETTINGS",                              // objects, as JSON
                "[{\"DataSource\": \"postgres://u:p@db/x\", \"QueryTimeLag\": \"select 'n', 1\"}]");

        HaConfig config = HaConfig.load(write(TestConfigs.sampleJson()), env);

        ClusterSettings c = config.clusterSettings();
        assertThat(c.enableGossipCompression()).isTrue();
        assertThat(c.gossipPort()).isEqualTo(9074);
        assertThat(c.overrideHostname()).isEqualTo("app2.internal");
        assertThat(c.seeds()).containsExactly("app3:9074", "app4:9074");
        assertThat(c.clusterName()).as("not overridden, from the file").isEqualTo("prod");
        SqlSettings s = config.sqlSettings();
        assertThat(s.replicaMaxLagBytes()).isEqualTo(1_048_576L);
        assertThat(s.dataSourceSearchReplicas())
                .containsExactly("postgres://u:p@search1/db", "postgres://u:p@search2/db");
        assertThat(s.replicaLagSettings()).containsExactly(
                new ReplicaLagSetting("postgres://u:p@db/x", "", "select 'n', 1"));
        assertThat(s.maxOpenConns()).as("not overridden, from the file").isEqualTo(100);

        assertThat(config.environmentOverrides()).containsOnlyKeys(
                "ClusterSettings.EnableGossipCompression", "ClusterSettings.GossipPort",
                "ClusterSettings.OverrideHostname", "ClusterSettings.Seeds", "SqlSettings.ReplicaMaxLagBytes",
                "SqlSettings.DataSourceSearchReplicas", "SqlSettings.ReplicaLagSettings");
        assertThat(config.environmentOverrides().get("ClusterSettings.GossipPort"))
                .isEqualTo("HA_CLUSTERSETTINGS_GOSSIPPORT");
    }

    @Test
    void environmentNamesAreCaseInsensitiveAfterThePrefixAndBooleansParseAsGoDoes() {
        for (String word : List.of("1", "t", "T", "TRUE", "true", "True")) {
            assertThat(HaConfig.parse("{}", Map.of("HA_ClusterSettings_ReadOnlyConfig", "0",
                    "HA_clustersettings_enableexperimentalgossipencryption", word))
                    .clusterSettings().enableExperimentalGossipEncryption()).as(word).isTrue();
        }
        for (String word : List.of("0", "f", "F", "FALSE", "false", "False")) {
            assertThat(HaConfig.parse("{}", Map.of("HA_CLUSTERSETTINGS_USEIPADDRESS", word))
                    .clusterSettings().useIpAddress()).as(word).isFalse();
        }
        assertThat(HaConfig.parse("{}", Map.of("HA_ClusterSettings_ReadOnlyConfig", "0"))
                .clusterSettings().readOnlyConfig()).isFalse();
    }

    @Test
    void emptyListOverrideClearsTheList() {
        HaConfig config = HaConfig.parse(TestConfigs.sampleJson(), Map.of("HA_SQLSETTINGS_DATASOURCEREPLICAS", ""));
        assertThat(config.sqlSettings().dataSourceReplicas()).isEmpty();
    }

    @Test
    void unrelatedVariablesAreNotOverrides() {
        HaConfig config = HaConfig.parse("{}", Map.of("HA_HOME", "/opt/ha", "HA_PROXY_MODE", "tcp",
                "MM_CLUSTERSETTINGS_GOSSIPPORT", "1", "PATH", "/bin"));
        assertThat(config.environmentOverrides()).isEmpty();
        assertThat(config.clusterSettings()).isEqualTo(ClusterSettings.defaults());
    }

    @Test
    void unknownFieldsInOurSectionsAreReportedByNameAllAtOnce() {
        String json = """
                {"ClusterSettings": {"Enable": false, "GosipPort": 8074},
                 "SqlSettings": {"DataSourceReplica": [], "ReplicaLagSettings": [{"DataSource": "postgres://h/db",
                     "QueryTimeLag": "select 1", "QueryLag": "x"}]},
                 "OtherSettings": {"AnythingGoes": 1}}
                """;
        assertThatThrownBy(() -> HaConfig.parse(json, Map.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "ClusterSettings.GosipPort: unknown field in ClusterSettings; did you mean GossipPort?",
                        "SqlSettings.DataSourceReplica: unknown field in SqlSettings; did you mean DataSourceReplicas?",
                        "SqlSettings.ReplicaLagSettings[0].QueryLag: unknown field in ReplicaLagSetting; "
                                + "did you mean QueryTimeLag?"))
                .hasMessageContaining("GosipPort").hasMessageContaining("DataSourceReplica");
    }

    @Test
    void valuesOfTheWrongTypeAreReportedWithFieldAndValue() {
        String json = """
                {"ClusterSettings": {"Enable": "yes", "GossipPort": "8074", "StreamingPort": 8075.5,
                                     "Seeds": "a:1", "ClusterName": 7},
                 "SqlSettings": {"MaxOpenConns": 3000000000, "DataSourceReplicas": [1],
                                 "ReplicaLagSettings": [17]}}
                """;
        assertThatThrownBy(() -> HaConfig.parse(json, Map.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "ClusterSettings.Enable: expected true or false, got \"yes\"",
                        "ClusterSettings.GossipPort: expected an integer in -2147483648..2147483647, got \"8074\"",
                        "ClusterSettings.StreamingPort: expected an integer in -2147483648..2147483647, got 8075.5",
                        "ClusterSettings.Seeds: expected a list, got \"a:1\"",
                        "ClusterSettings.ClusterName: expected a string, got 7",
                        "SqlSettings.MaxOpenConns: expected an integer in -2147483648..2147483647, got 3000000000",
                        "SqlSettings.DataSourceReplicas[0]: expected a string, got 1",
                        "SqlSettings.ReplicaLagSettings[0]: expected an object, got 17"));
    }

    @Test
    void aFieldOrSectionGivenTwiceInDifferentCaseIsAnError() {
        assertThatThrownBy(() -> HaConfig.parse("{\"ClusterSettings\": {\"UseIpAddress\": true, \"UseIPAddress\": false}}",
                Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("ClusterSettings.UseIPAddress: UseIpAddress is given twice (also as UseIpAddress)");
        assertThatThrownBy(() -> HaConfig.parse("{\"SqlSettings\": {}, \"sqlsettings\": {}}", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("sqlsettings: section SqlSettings is given twice (also as SqlSettings)");
        assertThatThrownBy(() -> HaConfig.parse("{\"SqlSettings\": {\"QueryTimeout\": 1, \"QueryTimeout\": 2}}", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("key 'QueryTimeout' appears twice in one object");
    }

    @Test
    void badEnvironmentOverridesAreReportedByVariableName() {
        Map<String, String> env = Map.of(
                "HA_CLUSTERSETTINGS_GOSIPPORT", "9000",
                "HA_SERVICESETTINGS_SITEURL", "https://x",
                "HA_SQLSETTINGS", "x",
                "HA_CLUSTERSETTINGS_ENABLE", "yes",
                "HA_CLUSTERSETTINGS_GOSSIPPORT", "90000000000",
                "HA_SQLSETTINGS_REPLICAMAXLAGBYTES", "12MB",
                "HA_SQLSETTINGS_REPLICALAGSETTINGS", "[{\"DataSource\": \"postgres://h/db\", \"Query\": \"x\"}]",
                "HA_SQLSETTINGS_MAXIDLECONNS", "");
        assertThatThrownBy(() -> HaConfig.parse("{}", env))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "HA_CLUSTERSETTINGS_ENABLE (ClusterSettings.Enable): expected a boolean "
                                + "(true, false, 1, 0, t, f), got \"yes\"",
                        "HA_CLUSTERSETTINGS_GOSIPPORT: unknown field GOSIPPORT in ClusterSettings; "
                                + "did you mean HA_CLUSTERSETTINGS_GOSSIPPORT?",
                        "HA_CLUSTERSETTINGS_GOSSIPPORT (ClusterSettings.GossipPort): expected an integer in "
                                + "-2147483648..2147483647, got \"90000000000\"",
                        "HA_SERVICESETTINGS_SITEURL: unknown section SERVICESETTINGS; only ClusterSettings, "
                                + "SqlSettings and JobSettings can be overridden",
                        "HA_SQLSETTINGS: names no field; expected HA_SQLSETTINGS_<FIELD>",
                        "HA_SQLSETTINGS_MAXIDLECONNS (SqlSettings.MaxIdleConns): expected an integer in "
                                + "-2147483648..2147483647, got \"\"",
                        "HA_SQLSETTINGS_REPLICALAGSETTINGS (SqlSettings.ReplicaLagSettings)[0].Query: "
                                + "unknown field in ReplicaLagSetting; did you mean QueryTimeLag?",
                        "HA_SQLSETTINGS_REPLICAMAXLAGBYTES (SqlSettings.ReplicaMaxLagBytes): expected an integer in "
                                + "-9223372036854775808..9223372036854775807, got \"12MB\""));
    }

    @Test
    void twoVariablesForOneSettingAreAnError() {
        assertThatThrownBy(() -> HaConfig.parse("{}", Map.of("HA_CLUSTERSETTINGS_GOSSIPPORT", "9000",
                "HA_ClusterSettings_GossipPort", "9001")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("HA_ClusterSettings_GossipPort: ClusterSettings.GossipPort is already set by "
                        + "HA_CLUSTERSETTINGS_GOSSIPPORT");
    }

    @Test
    void envObjectListMustBeAJsonListOfObjects() {
        assertThatThrownBy(() -> HaConfig.parse("{}", Map.of("HA_SQLSETTINGS_REPLICALAGSETTINGS", "{\"DataSource\": 1}")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("HA_SQLSETTINGS_REPLICALAGSETTINGS (SqlSettings.ReplicaLagSettings): "
                        + "expected a list, got an object");
        assertThatThrownBy(() -> HaConfig.parse("{}", Map.of("HA_SQLSETTINGS_REPLICALAGSETTINGS", "[{")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("expected a JSON list of objects; not valid JSON");
    }

    @Test
    void unreadableOrMalformedFilesGiveClearErrors() throws IOException {
        assertThatThrownBy(() -> HaConfig.load(dir.resolve("absent.json"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot load").hasMessageContaining("absent.json")
                .hasMessageContaining("NoSuchFileException");
        assertThatThrownBy(() -> HaConfig.load(write("{\"ClusterSettings\": {\"Enable\": true,,}}"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("not valid JSON at line 1, column 37");
        assertThatThrownBy(() -> HaConfig.parse("[1, 2]", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("expected a JSON object at the top level");
        assertThatThrownBy(() -> HaConfig.parse("", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("expected a JSON object at the top level");
        assertThatThrownBy(() -> HaConfig.parse("{\"ClusterSettings\": [1]}", Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("ClusterSettings: expected an object, got a list");
    }

    @Test
    void refusesAbsurdlyLargeFilesBeforeReadingThem() throws IOException {
        Path big = dir.resolve("big.json");
        try (FileChannel channel = FileChannel.open(big, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {' '}), HaConfig.MAX_FILE_BYTES); // sparse, one byte too big
        }
        assertThatThrownBy(() -> HaConfig.load(big, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("at most " + HaConfig.MAX_FILE_BYTES);
    }

    @Test
    void buildsProgrammatically() {
        ClusterSettings cluster = ClusterSettings.builder().enable(true).clusterName("test")
                .gossipPort(17000).streamingPort(17001).seeds(List.of("127.0.0.1:17010")).gossipPreset("local")
                .build();
        SqlSettings sql = SqlSettings.builder().dataSource("jdbc:postgresql://127.0.0.1:5432/app?user=a&password=b")
                .maxOpenConns(10).maxIdleConns(5).build();
        HaConfig config = HaConfig.builder().clusterSettings(cluster).sqlSettings(sql)
                .otherSection("ServiceSettings", JsonNodeFactory.instance.objectNode().put("SiteURL", "http://localhost"))
                .build();

        assertThat(config.clusterSettings()).isEqualTo(cluster);
        assertThat(config.sqlSettings()).isEqualTo(sql);
        assertThat(config.otherSections()).containsOnlyKeys("ServiceSettings");
        assertThat(cluster.toBuilder().build()).isEqualTo(cluster);
        assertThat(sql.toBuilder().build()).isEqualTo(sql);
        // The same configuration written as a file reads back equal.
        assertThat(HaConfig.parse(config.toJson(), Map.of())).isEqualTo(config);
        assertThatThrownBy(() -> HaConfig.builder().otherSection("clusterSettings", JsonNodeFactory.instance.objectNode()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void settingsRecordsNeverHoldNulls() {
        ClusterSettings c = new ClusterSettings(false, null, null, null, null, null, true, true, false, true,
                8074, 8075, null, null, 60, 1800, 0, null, 1, 1, 1000, null, true, true,
                false, null, null, null, null, null, null, null, null, null, null, null, null, true, 64, 5, 8, true);
        assertThat(c.clusterName()).isEmpty();
        assertThat(c.gossipEncryptionKey()).isEmpty();
        assertThat(c.streamTlsKeyPassword()).isEmpty();
        assertThat(c.streamTlsClientAuth()).isEqualTo("require");
        assertThat(c.seeds()).isEmpty();
        assertThat(c.gossipPreset()).isEmpty();
        SqlSettings s = new SqlSettings(null, null, null, null, 1, 1, 0, 0, 0, null, 1, 0, 0);
        assertThat(s.dataSourceReplicas()).isEmpty();
        assertThat(s.replicaLagSettings()).isEmpty();
        assertThat(new ReplicaLagSetting(null, null, null).dataSource()).isEmpty();
    }
}
