package io.hacluster.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Honours {@code ClusterSettings.ReadOnlyConfig} for {@link HaConfig#save(Path)}, with
 * Mattermost's rule ({@code FileStore.Set}): the file is read-only while the configuration
 * <em>in force</em> for it, the one a node loading it runs, has {@code Enable} and
 * {@code ReadOnlyConfig} both true. That configuration is the file as it is now on disk with the
 * saving configuration's environment overrides on top (an {@code HA_CLUSTERSETTINGS_READONLYCONFIG}
 * variable locks or unlocks every file of that process). So an application cannot unlock a file by
 * saving a value with {@code ReadOnlyConfig} false over it; only an edit outside the library can.
 *
 * <p>A file that does not exist yet has no configuration in force and may be created. A file that
 * exists but whose {@code ClusterSettings} cannot be read is refused too: whether it is read-only
 * cannot be told, and overwriting it would lose what an operator wrote there.
 */
final class ReadOnlyConfigGuard {

    private ReadOnlyConfigGuard() {
    }

    /**
     * @throws ReadOnlyConfigException when {@code target} must not be written
     */
    static void check(Path target, EnvironmentOverrides overrides) {
        String text;
        try {
            long size = Files.size(target);
            if (size > HaConfig.MAX_FILE_BYTES) {
                throw new ReadOnlyConfigException(target, "it is " + size + " bytes, more than a configuration"
                        + " file may have, so whether it is read-only cannot be told");
            }
            text = Files.readString(target, StandardCharsets.UTF_8);
        } catch (NoSuchFileException absent) {
            return;
        } catch (IOException e) {
            throw new ReadOnlyConfigException(target, "it cannot be read (" + e.getClass().getSimpleName()
                    + "), so whether it is read-only cannot be told");
        }
        ClusterSettings inForce = clusterSettingsOf(text, target, overrides);
        if (inForce.enable() && inForce.readOnlyConfig()) {
            throw new ReadOnlyConfigException(target, "its configuration has ClusterSettings.Enable and "
                    + "ClusterSettings.ReadOnlyConfig true" + (overrides.variables().containsKey(
                            ClusterSettings.SECTION + ".ReadOnlyConfig") ? " (ReadOnlyConfig from the environment)" : "")
                    + "; change every node's file outside the library and reload it (ClusterNode.reloadConfig"
                    + " / reloadConfigEverywhere), or set ReadOnlyConfig false in the file first");
        }
    }

    private static ClusterSettings clusterSettingsOf(String text, Path target, EnvironmentOverrides overrides) {
        JsonNode root;
        try {
            root = ConfigJson.MAPPER.readTree(text);
        } catch (IOException e) {
            throw new ReadOnlyConfigException(target, "it is not JSON, so whether it is read-only cannot be told");
        }
        if (root == null || !root.isObject()) {
            throw new ReadOnlyConfigException(target, "it is not a JSON object, so whether it is read-only"
                    + " cannot be told");
        }
        ObjectNode fields = ConfigJson.MAPPER.createObjectNode();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, JsonNode> entry : root.properties()) {
            if (SectionSchema.named(entry.getKey()).filter(s -> s == SectionSchema.CLUSTER).isPresent()
                    && !entry.getValue().isNull()) {
                fields.setAll(SectionSchema.CLUSTER.normalize(entry.getValue(), ClusterSettings.SECTION, problems,
                        ConfigJson.MAPPER.createObjectNode()));
            }
        }
        if (!problems.isEmpty()) {
            throw new ReadOnlyConfigException(target, "its ClusterSettings cannot be read (" + problems.size()
                    + " problems, first: " + problems.get(0) + "), so whether it is read-only cannot be told");
        }
        ClusterSettings fileForm = SectionSchema.CLUSTER.bind(ClusterSettings.defaults(), fields);
        return SectionSchema.CLUSTER.bind(fileForm, overrides.section(ClusterSettings.SECTION));
    }
}
