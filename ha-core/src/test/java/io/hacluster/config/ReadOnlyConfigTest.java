package io.hacluster.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ClusterSettings.ReadOnlyConfig} is honoured by the only API that writes a configuration
 * file, {@link HaConfig#save}: Mattermost's rule, the configuration in force for the file (the file
 * on disk with the saver's environment overrides) decides.
 */
class ReadOnlyConfigTest {

    @TempDir
    Path dir;

    private static HaConfig cluster(boolean enable, boolean readOnly) {
        return HaConfig.builder().clusterSettings(ClusterSettings.builder().enable(enable).clusterName("c")
                .readOnlyConfig(readOnly).build()).build();
    }

    private Path write(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    private void assertOnlyFiles(String... names) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(names);
        }
    }

    @Test
    void aReadOnlyClusterFileIsNeverWrittenNotEvenToUnlockIt() throws IOException {
        String before = cluster(true, true).toJson();
        Path file = write("config.json", before);
        HaConfig loaded = HaConfig.load(file, Map.of());

        assertThatThrownBy(() -> loaded.withSqlSettings(SqlSettings.builder().maxOpenConns(70).build()).save(file))
                .isInstanceOf(ReadOnlyConfigException.class)
                .hasMessageContaining("ReadOnlyConfig true")
                .satisfies(e -> assertThat(((ReadOnlyConfigException) e).file()).isEqualTo(file.toAbsolutePath()));
        // A value that says "not read-only" cannot unlock the file either: the file in force decides.
        HaConfig unlocking = loaded.withClusterSettings(loaded.clusterSettings().toBuilder().readOnlyConfig(false).build());
        assertThatThrownBy(() -> unlocking.save(file)).isInstanceOf(ReadOnlyConfigException.class);

        assertThat(Files.readString(file)).isEqualTo(before);
        assertOnlyFiles("config.json");
    }

    @Test
    void aFileUnlockedByHandIsWritableAgain() throws IOException {
        Path file = write("config.json", cluster(true, true).toJson());
        // The operator's edit, outside the library.
        Files.writeString(file, cluster(true, false).toJson());
        HaConfig changed = HaConfig.load(file, Map.of()).withSqlSettings(SqlSettings.builder().maxOpenConns(70).build());
        changed.save(file);
        assertThat(HaConfig.load(file, Map.of()).sqlSettings().maxOpenConns()).isEqualTo(70);
    }

    @Test
    void readOnlyConfigCountsOnlyInClusterMode() throws IOException {
        Path file = write("config.json", cluster(false, true).toJson());
        cluster(false, true).withSqlSettings(SqlSettings.builder().maxOpenConns(90).build()).save(file);
        assertThat(HaConfig.load(file, Map.of()).sqlSettings().maxOpenConns()).isEqualTo(90);
    }

    @Test
    void theEnvironmentLocksAndUnlocksAsItOverridesTheFile() throws IOException {
        Path writable = write("writable.json", cluster(true, false).toJson());
        HaConfig locked = HaConfig.load(writable, Map.of("HA_CLUSTERSETTINGS_READONLYCONFIG", "true"));
        assertThatThrownBy(() -> locked.save(writable)).isInstanceOf(ReadOnlyConfigException.class)
                .hasMessageContaining("from the environment");

        Path readOnly = write("read-only.json", cluster(true, true).toJson());
        HaConfig unlocked = HaConfig.load(readOnly, Map.of("HA_CLUSTERSETTINGS_READONLYCONFIG", "false"));
        unlocked.save(readOnly);  // the process's environment makes it writable, as the node runs it
        assertThat(HaConfig.load(readOnly, Map.of()).clusterSettings().readOnlyConfig())
                .as("the override is not written to the file").isTrue();
    }

    @Test
    void aNewFileMayBeCreatedButNotOverwrittenOnceItIsReadOnly() throws IOException {
        Path file = dir.resolve("new.json");
        HaConfig config = cluster(true, true);
        config.save(file);
        assertThat(HaConfig.load(file, Map.of())).isEqualTo(config);
        assertThatThrownBy(() -> config.save(file)).isInstanceOf(ReadOnlyConfigException.class);
    }

    @Test
    void anExistingFileThatCannotBeReadIsNotOverwritten() throws IOException {
        Path garbage = write("garbage.json", "{ not json");
        assertThatThrownBy(() -> cluster(false, false).save(garbage)).isInstanceOf(ReadOnlyConfigException.class)
                .hasMessageContaining("cannot be told");
        assertThat(Files.readString(garbage)).isEqualTo("{ not json");

        Path badSection = write("bad.json", "{\"ClusterSettings\": {\"ReadOnlyConfig\": \"maybe\"}}");
        assertThatThrownBy(() -> cluster(false, false).save(badSection)).isInstanceOf(ReadOnlyConfigException.class);

        // An object without ClusterSettings is Mattermost's defaults: Enable false, so writable.
        Path empty = write("empty.json", "{}");
        cluster(false, false).save(empty);
        assertThat(HaConfig.load(empty, Map.of())).isEqualTo(cluster(false, false));
    }
}
