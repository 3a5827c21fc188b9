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
        // A DSN that does not parse is not quoted at all, so its password cannot leak (issue 10).
        assertThat(e.getMessage()).contains("SqlSettings.DataSource: invalid PostgreSQL DSN: port is not a number")
                .doesNotContain("mmuser");
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

    /** Values with {@link #SECRET} where a password goes, in the shapes issue 10 lists and more. */
    private static final List<String> SECRET_SHAPES = List.of(
            "postgres//mm:" + SECRET + "@127.0.0.1:5432/db",
            "postgres:/mm:" + SECRET + "@127.0.0.1:5432/db",
            "postgres:mm:" + SECRET + "@127.0.0.1:5432/db",
            "mm:" + SECRET + "@tcp(db:3306)/mattermost?charset=utf8mb4",
            "host=db user=mm password = " + SECRET + " dbname=mattermost",
            "password='" + SECRET + " x'",
            "jdbc:postgresql://db/mm?PASSWORD=" + SECRET,
            "jdbc:postgresql://mm:" + SECRET + "@db/mm",
            "postgres://u:" + SECRET + "@db:notaport/x",
            "postgres://u:" + SECRET + "/x@db/x",
            "postgres://u:" + SECRET + "@db/x",
            "postgres://u:" + SECRET + "@db/x?sslpassword=" + SECRET);

    /**
     * Every shape in every field of our sections, from the file and from the environment: the
     * configuration either fails with no secret in the exception, or loads and prints no secret.
     */
    @Test
    void noSecretShapeInAnyFieldOrVariableEverShows() {
        int failures = 0;
        for (SectionSchema schema : SectionSchema.OURS) {
            for (SectionSchema.Field field : schema.fields()) {
                for (String shape : SECRET_SHAPES) {
                    String what = schema.name() + "." + field.name() + " = " + shape.replace(SECRET, "<secret>");
                    String value = switch (field.kind()) {
                        case STRING_LIST -> "[" + jsonString(shape) + "]";
                        case RECORD_LIST -> "[{\"DataSource\": " + jsonString(shape) + ", \"QueryTimeLag\": \"q\"}]";
                        default -> jsonString(shape);
                    };
                    String master = schema == SectionSchema.SQL ? "\"DataSource\": \"postgres://m/db\", " : "";
                    failures += checkNoSecret("file " + what, "{\"" + schema.name() + "\": {" + master
                            + "\"" + field.name() + "\": " + value + "}}", Map.of());
                    String variable = "HA_" + schema.name().toUpperCase(java.util.Locale.ROOT) + "_"
                            + field.name().toUpperCase(java.util.Locale.ROOT);
                    String envValue = field.kind() == SectionSchema.Kind.RECORD_LIST ? value : shape;
                    failures += checkNoSecret("environment " + what, master.isEmpty() ? "{}"
                            : "{\"SqlSettings\": {\"DataSource\": \"postgres://m/db\"}}", Map.of(variable, envValue));
                }
            }
        }
        // Most combinations must really be errors, or the check above proves little.
        assertThat(failures).isGreaterThan(SECRET_SHAPES.size() * 20);
    }

    /** 1 if the configuration failed, 0 if it loaded; either way no secret may show. */
    private static int checkNoSecret(String what, String json, Map<String, String> env) {
        HaConfig config;
        try {
            config = HaConfig.parse(json, env);
        } catch (ConfigException e) {
            assertNoSecret(what, e);
            return 1;
        }
        assertNoSecret(what + " (toString)", config.toString());
        assertNoSecret(what + " (environmentOverrides)", config.environmentOverrides() + " " + config.unusedSettings());
        return 0;
    }

    private static String jsonString(String text) {
        try {
            return ConfigJson.MAPPER.writeValueAsString(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void atRestEncryptKeyNeverShowsInAnyForm() throws Exception {
        HaConfig config = HaConfig.parse("{\"SqlSettings\": {\"AtRestEncryptKey\": \"" + SECRET + "\"}}",
                Map.of("HA_SQLSETTINGS_ATRESTENCRYPTKEY", TestConfigs.MASTER_PASSWORD));
        assertNoSecret("HaConfig.toString", config.toString());
        assertNoSecret("SqlSettings.toString", config.sqlSettings().toString());
        assertNoSecret("unusedSettings", String.valueOf(config.unusedSettings()));
        assertThat(config.toJson()).contains(SECRET);  // the file needs it
        assertNoSecret("invalid configuration with the key", catchThrowableOfType(ConfigException.class,
                () -> HaConfig.parse("{\"SqlSettings\": {\"AtRestEncryptKey\": \"" + SECRET + "\", \"MaxOpenConns\": 0}}",
                        Map.of())));
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
