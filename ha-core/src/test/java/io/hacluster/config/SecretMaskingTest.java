package io.hacluster.config;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** No string form of a configuration, its errors or its log lines may carry a DSN password. */
class SecretMaskingTest {

    // Letters and digits only, so a JSON tokenizer quoting a bare word would quote all of it.
    private static final String SECRET = "Zq7SecretPw";
    private static final List<String> SECRETS = List.of(SECRET, TestConfigs.MASTER_PASSWORD,
            TestConfigs.REPLICA_PASSWORD, TestConfigs.LAG_PASSWORD);

    @TempDir
    Path dir;

    private static void assertNoSecret(String what, String text) {
        assertThat(text).as(what).isNotBlank();
        for (String secret : SECRETS) {
            assertThat(text).as(what).doesNotContain(secret);
        }
    }

    /** The message, toString and the whole printed stack trace with causes. */
    private static void assertNoSecret(String what, Throwable e) {
        assertThat(e).as(what + " should have failed").isNotNull();
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        assertNoSecret(what + " (message)", e.getMessage());
        assertNoSecret(what + " (toString)", e.toString());
        assertNoSecret(what + " (stack trace)", trace.toString());
    }

    private static ConfigException failure(String json, Map<String, String> env) {
        return catchThrowableOfType(ConfigException.class, () -> HaConfig.parse(json, env));
    }

    @Test
    void valuesAndConfigurationsPrintMasked() {
        HaConfig config = HaConfig.parse(TestConfigs.sampleJson(), Map.of(
                "HA_SQLSETTINGS_DATASOURCESEARCHREPLICAS", "jdbc:postgresql://s1/db?user=u&password=" + SECRET));
        SqlSettings sql = config.sqlSettings();
        // The secrets are really in there, so the checks below can fail.
        assertThat(sql.dataSource()).contains(TestConfigs.MASTER_PASSWORD);
        assertThat(sql.dataSourceSearchReplicas().get(0)).contains(SECRET);

        assertNoSecret("SqlSettings.toString", sql.toString());
        assertThat(sql.toString()).contains("postgres://mmuser:****@db-primary:5432/mattermost")
                .contains("jdbc:postgresql://s1/db?user=u&password=****");
        assertNoSecret("ReplicaLagSetting.toString", sql.replicaLagSettings().get(0).toString());
        assertNoSecret("HaConfig.toString", config.toString());
        assertNoSecret("ClusterSettings.toString", config.clusterSettings().toString());
        assertNoSecret("environmentOverrides", config.environmentOverrides().toString());
        assertNoSecret("String.valueOf(record list)", String.valueOf(List.of(sql, sql.replicaLagSettings())));
    }

    @Test
    void otherSectionsAreNotPrinted() {
        HaConfig config = HaConfig.parse("{\"EmailSettings\": {\"SMTPPassword\": \"" + SECRET + "\"}}", Map.of());
        assertNoSecret("HaConfig.toString", config.toString());
        assertThat(config.toString()).contains("EmailSettings");
    }

    @Test
    void validationErrorsMaskEveryDsn() {
        String bad = "postgres://mmuser:" + SECRET + "@db:notaport/mattermost";
        ConfigException e = failure("{\"SqlSettings\": {\"DataSource\": \"" + bad + "\","
                + "\"DataSourceReplicas\": [\"" + bad + "\"],"
                + "\"DataSourceSearchReplicas\": [\"jdbc:postgresql://h:x/db?password=" + SECRET + "&ssl=true\"],"
                + "\"ReplicaLagSettings\": [{\"DataSource\": \"" + bad + "\", \"QueryTimeLag\": \"select 1\"}]}}",
                Map.of());
        assertNoSecret("bad DSNs", e);
        assertThat(e.problems()).hasSize(4);
        assertThat(e.getMessage()).contains("SqlSettings.DataSource: invalid PostgreSQL DSN "
                + "'postgres://mmuser:****@db:notaport/mattermost'");
    }

    @Test
    void typeErrorsNeverQuoteDsnLists() {
        String dsn = "postgres://u:" + SECRET + "@db/x";
        ConfigException e = failure("{\"SqlSettings\": {\"DataSource\": [\"" + dsn + "\"],"
                + "\"DataSourceReplicas\": \"" + dsn + "\", \"ReplicaLagSettings\": {\"DataSource\": \"" + dsn + "\"},"
                + "\"DataSourceSearchReplicas\": [[\"" + dsn + "\"]]}}", Map.of());
        assertNoSecret("type errors", e);
        assertThat(e.problems()).containsExactly(
                "SqlSettings.DataSource: expected a string, got a list",
                "SqlSettings.DataSourceReplicas: expected a list, got \"postgres://u:****@db/x\"",
                "SqlSettings.ReplicaLagSettings: expected a list, got an object",
                "SqlSettings.DataSourceSearchReplicas[0]: expected a string, got a list");
    }

    @Test
    void environmentErrorsMaskEveryDsn() {
        assertNoSecret("bad DSN from the environment", failure("{}",
                Map.of("HA_SQLSETTINGS_DATASOURCE", "postgres://u:" + SECRET + "@db:bad/x")));
        assertNoSecret("invalid lag JSON from the environment", failure("{}", Map.of(
                "HA_SQLSETTINGS_REPLICALAGSETTINGS", "[{\"DataSource\": \"postgres://u:" + SECRET + "@db/x\",, }]")));
        assertNoSecret("unparseable lag JSON token", failure("{}", Map.of(
                "HA_SQLSETTINGS_REPLICALAGSETTINGS", "[{\"DataSource\": " + SECRET + "}]")));
        assertNoSecret("bad lag DSN from the environment", failure("{}", Map.of(
                "HA_SQLSETTINGS_REPLICALAGSETTINGS",
                "[{\"DataSource\": \"postgres://u:" + SECRET + "@db:bad/x\", \"QueryTimeLag\": \"q\"}]")));
        assertNoSecret("a list where a string belongs", failure("{}", Map.of(
                "HA_SQLSETTINGS_DATASOURCEREPLICAS", "postgres://u:" + SECRET + "@db:bad/x")));
    }

    @Test
    void jsonSyntaxErrorsDoNotQuoteTheOffendingText() {
        assertNoSecret("unquoted DSN", failure("{\"SqlSettings\": {\"DataSource\": postgres://u:" + SECRET + "@h/x}}",
                Map.of()));
        assertNoSecret("bare word", failure("{\"SqlSettings\": {\"DataSource\": " + SECRET + "}}", Map.of()));
        assertNoSecret("bad escape", failure("{\"SqlSettings\": {\"DataSource\": \"postgres://u:" + SECRET
                + "\\q@h/x\"}}", Map.of()));
        assertNoSecret("unterminated string", failure("{\"SqlSettings\": {\"DataSource\": \"postgres://u:" + SECRET,
                Map.of()));
    }

    @Test
    void logLinesCarryNoSecrets() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(HaConfig.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        Level before = logger.getLevel();
        logger.setLevel(Level.TRACE);
        logger.addAppender(appender);
        try {
            Path file = dir.resolve("config.json");
            Files.writeString(file, TestConfigs.sampleJson());
            HaConfig config = HaConfig.load(file, Map.of("HA_SQLSETTINGS_DATASOURCE",
                    "postgres://u:" + SECRET + "@db/x"));
            config.save(dir.resolve("saved.json"));
        } finally {
            logger.detachAppender(appender);
            logger.setLevel(before);
        }
        List<String> lines = new ArrayList<>();
        for (ILoggingEvent event : appender.list) {
            lines.add(event.getFormattedMessage());
        }
        assertThat(lines).as("load and save should each log a line").hasSizeGreaterThanOrEqualTo(2);
        assertThat(String.join("\n", lines)).contains("HA_SQLSETTINGS_DATASOURCE");
        assertNoSecret("log lines", String.join("\n", lines));
    }
}
