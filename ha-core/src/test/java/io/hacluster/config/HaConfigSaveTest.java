package io.hacluster.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HaConfigSaveTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path sampleFile() throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, TestConfigs.sampleJson());
        return file;
    }

    private static final Map<String, String> OVERRIDES = Map.of(
            "HA_SQLSETTINGS_DATASOURCE", "postgres://env:EnvOnlyPassword@env-db:5432/envdb",
            "HA_CLUSTERSETTINGS_GOSSIPPORT", "9999",
            "HA_CLUSTERSETTINGS_SEEDS", "env-seed:1",
            "HA_CLUSTERSETTINGS_ENABLEGOSSIPCOMPRESSION", "true",
            "HA_SQLSETTINGS_REPLICALAGSETTINGS", "[]");

    @Test
    void saveNeverWritesEnvironmentOverrides() throws IOException {
        Path file = sampleFile();
        HaConfig config = HaConfig.load(file, OVERRIDES);
        assertThat(config.clusterSettings().gossipPort()).isEqualTo(9999);
        assertThat(config.sqlSettings().dataSource()).contains("env-db");

        Path saved = dir.resolve("saved.json");
        config.save(saved);

        String text = Files.readString(saved);
        assertThat(text).doesNotContain("EnvOnlyPassword").doesNotContain("env-db").doesNotContain("env-seed")
                .doesNotContain("9999");
        JsonNode tree = JSON.readTree(text);
        assertThat(tree.at("/ClusterSettings/GossipPort").intValue()).isEqualTo(8074);
        assertThat(tree.at("/ClusterSettings/EnableGossipCompression").booleanValue()).isFalse();
        assertThat(tree.at("/ClusterSettings/Seeds").size()).isEqualTo(3);
        assertThat(tree.at("/SqlSettings/DataSource").textValue()).contains(TestConfigs.MASTER_PASSWORD);
        assertThat(tree.at("/SqlSettings/ReplicaLagSettings").size()).isEqualTo(1);

        // Read back without the environment: exactly the file form of the loaded configuration.
        HaConfig reloaded = HaConfig.load(saved, Map.of());
        assertThat(reloaded).isEqualTo(config.withEnvironment(Map.of()));
        assertThat(reloaded).isEqualTo(HaConfig.load(file, Map.of()));
        // toJson is the same file form.
        assertThat(config.toJson()).isEqualTo(text);
    }

    @Test
    void changedSettingsAreSavedButOverridesStillWinAtRunTime() throws IOException {
        HaConfig config = HaConfig.load(sampleFile(), OVERRIDES);
        HaConfig changed = config.withClusterSettings(config.withEnvironment(Map.of()).clusterSettings().toBuilder()
                .gossipPort(7000).clusterName("renamed").build());

        assertThat(changed.clusterSettings().gossipPort()).as("the override still applies").isEqualTo(9999);
        assertThat(changed.clusterSettings().clusterName()).isEqualTo("renamed");
        assertThat(changed.environmentOverrides()).isEqualTo(config.environmentOverrides());

        Path saved = dir.resolve("changed.json");
        changed.save(saved);
        HaConfig reloaded = HaConfig.load(saved, Map.of());
        assertThat(reloaded.clusterSettings().gossipPort()).isEqualTo(7000);
        assertThat(reloaded.clusterSettings().clusterName()).isEqualTo("renamed");
        assertThat(reloaded.sqlSettings().dataSource()).contains("db-primary");
    }

    @Test
    void roundTripIsStable() throws IOException {
        HaConfig first = HaConfig.load(sampleFile(), Map.of());
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        first.save(a);
        HaConfig second = HaConfig.load(a, Map.of());
        second.save(b);

        assertThat(second).isEqualTo(first);
        assertThat(second.hash()).isEqualTo(first.hash());
        assertThat(second.clusterSettings()).isEqualTo(first.clusterSettings());
        assertThat(second.sqlSettings()).isEqualTo(first.sqlSettings());
        assertThat(Files.readString(b)).isEqualTo(Files.readString(a));
    }

    @Test
    void otherSectionsAreWrittenBackAsReadInFileOrder() throws IOException {
        HaConfig config = HaConfig.load(sampleFile(), Map.of());
        Path saved = dir.resolve("saved.json");
        config.save(saved);

        JsonNode original = JSON.readTree(TestConfigs.sampleJson());
        JsonNode written = JSON.readTree(Files.readString(saved));
        List<String> names = new ArrayList<>();
        written.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("ServiceSettings", "TeamSettings", "ClusterSettings", "SqlSettings",
                "PluginSettings");
        for (String section : List.of("ServiceSettings", "TeamSettings", "PluginSettings")) {
            assertThat(written.get(section)).as(section).isEqualTo(original.get(section));
        }
        // Decimals keep their written form (0.750 is not rewritten as 0.75).
        assertThat(Files.readString(saved)).contains("\"Threshold\": 0.750");
        // Our sections are written complete, with canonical names.
        assertThat(written.get("ClusterSettings").has("UseIpAddress")).isTrue();
        assertThat(written.get("ClusterSettings").has("UseIPAddress")).isFalse();
        assertThat(written.get("ClusterSettings").get("PeerQueueSize").intValue()).isEqualTo(10_000);
        assertThat(written.get("SqlSettings").get("ReplicaMaxLagMilliseconds").longValue()).isEqualTo(10_000);
    }

    @Test
    void programmaticConfigurationsSaveTheirSectionsFirst() throws IOException {
        HaConfig config = HaConfig.builder().build();
        Path saved = dir.resolve("new.json");
        config.save(saved);
        List<String> names = new ArrayList<>();
        JSON.readTree(Files.readString(saved)).fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("ClusterSettings", "SqlSettings");
        assertThat(HaConfig.load(saved, Map.of())).isEqualTo(config);
    }

    @Test
    void aNewFileIsOwnerOnlyAndAnExistingFileKeepsItsPermissions() throws IOException {
        HaConfig config = HaConfig.load(sampleFile(), Map.of());
        Path fresh = dir.resolve("fresh.json");
        config.save(fresh);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh))).isEqualTo("rw-------");

        Path existing = dir.resolve("existing.json");
        Files.writeString(existing, "{}");
        Files.setPosixFilePermissions(existing, PosixFilePermissions.fromString("rw-r-----"));
        config.save(existing);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(existing))).isEqualTo("rw-r-----");
        assertThat(HaConfig.load(existing, Map.of())).isEqualTo(config);
    }

    @Test
    void leavesNoTemporaryFilesBehind() throws IOException {
        // The sample is a read-only cluster file (Enable and ReadOnlyConfig true): this process's
        // environment unlocks it, as an operator would for a one-off rewrite.
        HaConfig config = HaConfig.load(sampleFile(), Map.of("HA_CLUSTERSETTINGS_READONLYCONFIG", "false"));
        for (int i = 0; i < 3; i++) {
            config.save(dir.resolve("config.json"));
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("config.json");
        }
    }

    @Test
    void savingIntoAMissingDirectoryFailsClearly() {
        HaConfig config = HaConfig.builder().build();
        assertThatThrownBy(() -> config.save(dir.resolve("no/such/dir/config.json")))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("cannot save configuration to");
    }
}
