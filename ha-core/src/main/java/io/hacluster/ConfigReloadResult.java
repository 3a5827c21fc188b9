package io.hacluster;

import java.util.List;
import java.util.Objects;

/**
 * What {@link ClusterNode#reloadConfig()} did on one node.
 *
 * <p>The rule: every changed setting that can change live is applied, every one that needs a
 * restart is listed as {@link SettingChange.Status#RESTART_REQUIRED} and left entirely as it was;
 * no setting is ever half applied. Applying is all or nothing for the live settings: when the
 * database router refuses the new SqlSettings (say, the new master is still a standby) nothing
 * changes, the live settings are {@link SettingChange.Status#REJECTED} and {@link #error()} says why.
 *
 * @param nodeId the node
 * @param configHashBefore the config hash the node advertised before
 * @param configHashAfter the config hash it advertises now: the hash of the configuration in force,
 *     so a setting that waits for a restart is not in it yet
 * @param changes every changed setting with what was done, in configuration order; empty when the
 *     file changed nothing
 * @param error why nothing was applied (an unreadable or invalid file, a refused database
 *     change), or null on success
 */
public record ConfigReloadResult(String nodeId, String configHashBefore, String configHashAfter,
                                 List<SettingChange> changes, String error) {

    public ConfigReloadResult {
        Objects.requireNonNull(nodeId, "nodeId");
        changes = changes == null ? List.of() : List.copyOf(changes);
    }

    /** Whether the reload succeeded (possibly with settings that wait for a restart). */
    public boolean succeeded() {
        return error == null;
    }

    /** The changes with {@code status}. */
    public List<SettingChange> withStatus(SettingChange.Status status) {
        return changes.stream().filter(c -> c.status() == status).toList();
    }

    /** The settings that changed in the file but wait for a restart. */
    public List<String> restartRequired() {
        return withStatus(SettingChange.Status.RESTART_REQUIRED).stream().map(SettingChange::setting).toList();
    }

    /** The settings now in force that were not before. */
    public List<String> applied() {
        return withStatus(SettingChange.Status.APPLIED).stream().map(SettingChange::setting).toList();
    }
}
