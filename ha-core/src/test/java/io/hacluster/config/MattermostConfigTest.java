package io.hacluster.config;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A Mattermost operator's config.json loads: every field Mattermost has in ClusterSettings,
 * SqlSettings and JobSettings is accepted, the unused ones are kept and listed, and only names
 * Mattermost does not have are errors, with the closest known name suggested.
 */
class MattermostConfigTest {

    @TempDir
    Path dir;

    /** The seed document's blocks, verbatim (src/test/resources/config/seed-*.json.txt). */
    private static String seedBlock(String name) {
        return TestConfigs.resource("/config/seed-" + name + ".json.txt").strip();
    }

    private static ConfigException failure(String json, Map<String, String> env) {
        return catchThrowableOfType(ConfigException.class, () -> HaConfig.parse(json, env));
    }

    @Test
    void theSeedsClusterSettingsBlocksLoadVerbatim() {
        HaConfig config = HaConfig.parse("{" + seedBlock("cluster-settings") + "}", Map.of());
        assertThat(config.clusterSettings().clusterName()).isEqualTo("production");
        assertThat(config.clusterSettings().gossipPort()).isEqualTo(8074);
        assertThat(config.clusterSettings().streamingPort()).isEqualTo(8075);
        assertThat(config.unusedSettings()).containsExactly("ClusterSettings.UseGossip");

        HaConfig upgrade = HaConfig.parse("{" + seedBlock("upgrade-cluster-settings") + "}", Map.of());
        assertThat(upgrade.clusterSettings().enable()).isTrue();
        assertThat(upgrade.unusedSettings()).containsExactly("ClusterSettings.UseGossip");
    }

    @Test
    void theSeedsSqlSettingsBlockHasNoUnknownFieldOnlyItsMySqlIsRefusedAndNoPasswordIsQuoted() {
        // The block as the seed writes it is MySQL; ha-cluster is PostgreSQL-only, so the one problem
        // is the driver (saying what to do), and Trace / AtRestEncryptKey are not problems.
        ConfigException e = failure("{" + seedBlock("cluster-settings") + ", " + seedBlock("sql-settings") + "}",
                Map.of());
        assertThat(e.problems()).containsExactly(
                "SqlSettings.DriverName: \"mysql\" is not supported: ha-cluster's router speaks PostgreSQL only; "
                        + "set DriverName to postgres with postgres:// DSNs, or drop SqlSettings.DataSource and cluster "
                        + "through ClusterSettings.Seeds without a database");
        assertThat(e.getMessage()).doesNotContain("master_password").doesNotContain("slave_password")
                .doesNotContain("unknown field");
    }

    @Test
    void theSeedsSqlSettingsShapeOnPostgresLoadsAndKeepsTraceAndAtRestEncryptKey() {
        String block = seedBlock("sql-settings")
                .replace("\"mysql\"", "\"postgres\"")
                .replace("\"AtRestEncryptKey\": \"\"", "\"AtRestEncryptKey\": \"k3yNeverPrinted\"")
                .replaceAll("master_user:master_password@tcp\\(master.server\\)/mattermost\\?[^\"]*",
                        "postgres://mmuser:pw@master.server/mattermost")
                .replaceAll("slave_user:slave_password@tcp\\((replica\\d).server\\)/mattermost\\?[^\"]*",
                        "postgres://mmuser:pw@$1.server/mattermost");
        HaConfig config = HaConfig.parse("{" + seedBlock("cluster-settings") + ", " + block + "}", Map.of());
        assertThat(config.sqlSettings().dataSourceReplicas()).hasSize(2);
        assertThat(config.unusedSettings()).containsExactly("ClusterSettings.UseGossip", "SqlSettings.AtRestEncryptKey",
                "SqlSettings.Trace");
        assertThat(config.toString()).contains("SqlSettings.AtRestEncryptKey").doesNotContain("k3yNeverPrinted");

        // Kept fields are written back as they were read, and read again to an equal configuration.
        JsonNode saved = readTree(config.toJson());
        assertThat(saved.get("SqlSettings").get("AtRestEncryptKey").textValue()).isEqualTo("k3yNeverPrinted");
        assertThat(saved.get("SqlSettings").get("Trace").booleanValue()).isFalse();
        assertThat(saved.get("ClusterSettings").get("UseGossip").booleanValue()).isTrue();
        assertThat(HaConfig.parse(config.toJson(), Map.of())).isEqualTo(config);
    }

    /** Every field of Mattermost's three sections (newest config.go) and the older ones. */
    @Test
    void everyFieldMattermostHasInOurSectionsIsAccepted() {
        String json = """
                {"ClusterSettings": {"Enable": true, "ClusterName": "prod", "OverrideHostname": "",
                    "NetworkInterface": "", "BindAddress": "", "AdvertiseAddress": "", "UseIPAddress": true,
                    "EnableGossipCompression": true, "EnableExperimentalGossipEncryption": false,
                    "ReadOnlyConfig": true, "GossipPort": 8074, "StreamingPort": 8075,
                    "MaxIdleConns": 100, "MaxIdleConnsPerHost": 128, "IdleConnTimeoutMilliseconds": 90000,
                    "UseExperimentalGossip": true, "InterNodeListenAddress": ":8075", "InterNodeUrls": []},
                 "SqlSettings": {"DriverName": "postgres", "DataSource": "postgres://mmuser:pw@db/mattermost",
                    "DataSourceReplicas": [], "DataSourceSearchReplicas": [], "MaxIdleConns": 20,
                    "ConnMaxLifetimeMilliseconds": 3600000, "ConnMaxIdleTimeMilliseconds": 300000,
                    "MaxOpenConns": 300, "Trace": false, "AtRestEncryptKey": "abc", "QueryTimeout": 30,
                    "DisableDatabaseSearch": false, "MigrationsStatementTimeoutSeconds": 100000,
                    "ReplicaLagSettings": [], "ReplicaMonitorIntervalSeconds": 5},
                 "JobSettings": {"RunJobs": true, "RunScheduler": true, "CleanupJobsThresholdDays": -1,
                    "CleanupConfigThresholdDays": -1}}
                """;
        HaConfig config = HaConfig.parse(json, Map.of());
        assertThat(config.unusedSettings()).containsExactly(
                "ClusterSettings.IdleConnTimeoutMilliseconds", "ClusterSettings.InterNodeListenAddress",
                "ClusterSettings.InterNodeUrls", "ClusterSettings.MaxIdleConns", "ClusterSettings.MaxIdleConnsPerHost",
                "ClusterSettings.UseExperimentalGossip", "SqlSettings.AtRestEncryptKey",
                "SqlSettings.DisableDatabaseSearch", "SqlSettings.MigrationsStatementTimeoutSeconds",
                "SqlSettings.Trace");
        assertThat(HaConfig.parse(config.toJson(), Map.of())).isEqualTo(config);
    }

    @Test
    void keptFieldsMatchInAnyCaseAndAreSavedUnderMattermostsSpelling() {
        HaConfig config = HaConfig.parse("{\"sqlsettings\": {\"TRACE\": true}, \"ClusterSettings\": {\"usegossip\": 1}}",
                Map.of());
        JsonNode saved = readTree(config.toJson());
        assertThat(saved.get("SqlSettings").get("Trace").booleanValue()).isTrue();
        assertThat(saved.get("ClusterSettings").get("UseGossip").intValue()).isEqualTo(1);
        assertThat(failure("{\"SqlSettings\": {\"Trace\": true, \"trace\": false}}", Map.of()).problems())
                .containsExactly("SqlSettings.trace: Trace is given twice (also as Trace)");
    }

    @Test
    void keptSqlFieldsEnterTheHashKeptClusterFieldsDoNot() {
        String base = HaConfig.parse("{\"SqlSettings\": {\"Trace\": false}}", Map.of()).hash();
        assertThat(HaConfig.parse("{\"SqlSettings\": {\"Trace\": true}}", Map.of()).hash()).isNotEqualTo(base);
        assertThat(HaConfig.parse("{\"SqlSettings\": {\"AtRestEncryptKey\": \"a\"}}", Map.of()).hash())
                .isNotEqualTo(HaConfig.parse("{\"SqlSettings\": {\"AtRestEncryptKey\": \"b\"}}", Map.of()).hash());
        assertThat(HaConfig.parse("{\"ClusterSettings\": {\"UseGossip\": true}}", Map.of()).hash())
                .isEqualTo(HaConfig.parse("{\"ClusterSettings\": {\"UseGossip\": false}}", Map.of()).hash());
    }

    @Test
    void namesMattermostDoesNotHaveAreErrorsNamingTheClosestKnownName() {
        ConfigException e = failure("""
                {"ClusterSettings": {"UseGosip": true, "gossipprot": 1, "StreamingPorts": 2},
                 "SqlSettings": {"AtRestEncryptionKey": "x", "Trase": true, "DataSourceReplicass": []},
                 "JobSettings": {"RunJob": true, "RunSchedular": false, "CleanupJobsThreshold": 3}}
                """, Map.of());
        assertThat(e.problems()).containsExactly(
                "ClusterSettings.UseGosip: unknown field in ClusterSettings; did you mean UseGossip?",
                "ClusterSettings.gossipprot: unknown field in ClusterSettings; did you mean GossipPort?",
                "ClusterSettings.StreamingPorts: unknown field in ClusterSettings; did you mean StreamingPort?",
                "SqlSettings.AtRestEncryptionKey: unknown field in SqlSettings; did you mean AtRestEncryptKey?",
                "SqlSettings.Trase: unknown field in SqlSettings; did you mean Trace?",
                "SqlSettings.DataSourceReplicass: unknown field in SqlSettings; did you mean DataSourceReplicas?",
                "JobSettings.RunJob: unknown field in JobSettings; did you mean RunJobs?",
                "JobSettings.RunSchedular: unknown field in JobSettings; did you mean RunScheduler?",
                "JobSettings.CleanupJobsThreshold: unknown field in JobSettings; did you mean CleanupJobsThresholdDays?");
    }

    @Test
    void overridesOfUnusedMattermostFieldsAreAcceptedListedAndNeverShown() {
        HaConfig config = HaConfig.parse("{}", Map.of("HA_SQLSETTINGS_TRACE", "true",
                "HA_SQLSETTINGS_ATRESTENCRYPTKEY", "envK3yNeverShown"));
        assertThat(config.unusedSettings()).containsExactly("SqlSettings.AtRestEncryptKey", "SqlSettings.Trace");
        assertThat(config.environmentOverrides()).containsEntry("SqlSettings.Trace", "HA_SQLSETTINGS_TRACE");
        assertThat(config.toString() + config.toJson()).doesNotContain("envK3yNeverShown");
        assertThat(failure("{}", Map.of("HA_SQLSETTINGS_TRACES", "1")).problems()).containsExactly(
                "HA_SQLSETTINGS_TRACES: unknown field TRACES in SqlSettings; did you mean HA_SQLSETTINGS_TRACE?");
    }

    @Test
    void unusedSettingsAreListedOnceAtInfoWhenTheConfigurationLoads() throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"SqlSettings\": {\"Trace\": true, \"AtRestEncryptKey\": \"fileK3yNeverLogged\"},"
                + " \"ClusterSettings\": {\"UseGossip\": true}}");
        List<ILoggingEvent> events = captureLogs(() -> HaConfig.load(file, Map.of()));
        List<String> unusedLines = events.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(line -> line.contains("does not use")).toList();
        assertThat(unusedLines).singleElement().satisfies(line -> assertThat(line)
                .contains("[ClusterSettings.UseGossip, SqlSettings.AtRestEncryptKey, SqlSettings.Trace]"));
        assertThat(events).filteredOn(ev -> ev.getFormattedMessage().contains("does not use"))
                .extracting(ILoggingEvent::getLevel).containsExactly(Level.INFO);
        assertThat(events).extracting(ILoggingEvent::getFormattedMessage)
                .noneMatch(line -> line.contains("fileK3yNeverLogged"));

        List<ILoggingEvent> quiet = captureLogs(() -> HaConfig.parse("{}", Map.of()));
        assertThat(quiet).extracting(ILoggingEvent::getFormattedMessage).noneMatch(l -> l.contains("does not use"));
    }

    private static List<ILoggingEvent> captureLogs(Supplier<HaConfig> action) {
        Logger logger = (Logger) LoggerFactory.getLogger(HaConfig.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        Level before = logger.getLevel();
        logger.setLevel(Level.TRACE);
        logger.addAppender(appender);
        try {
            action.get();
        } finally {
            logger.detachAppender(appender);
            logger.setLevel(before);
        }
        return appender.list;
    }

    private static JsonNode readTree(String json) {
        try {
            return ConfigJson.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
