package io.hacluster;

import io.hacluster.config.ClusterSettings;
import io.hacluster.config.ConfigDifference;
import io.hacluster.config.SqlSettings;

/**
 * Which settings a running node can change live, and which need a restart.
 *
 * <ul>
 *   <li>SqlSettings, through {@link io.hacluster.db.DatabaseRouter#reload}: new pools for a new
 *       master, replica or search replica list, sizes, lifetimes, query timeout, monitor interval
 *       and lag limits; borrowed connections finish on the old pools. Not when the node has no
 *       router or the change adds or removes the DataSource: the election's lease, the job server
 *       and discovery are wired to the database at start. {@code ReplicaLagSettings} is carried
 *       only (the router measures lag itself).</li>
 *   <li>{@code ClusterSettings.ReadOnlyConfig}: it only decides whether the file may be written.</li>
 *   <li>Every other ClusterSettings field (ports, addresses, names, gossip and messaging limits,
 *       discovery timing, seeds, health port, node id file) and every JobSettings field (the
 *       election's lease timing and quorum, RunJobs, RunScheduler, job cleanup) is fixed in the
 *       components built at start: restart. So is any setting this policy does not know (a field
 *       added by a later version): restart is the safe answer.</li>
 *   <li>Settings the library only carries (other sections, Mattermost's unread fields) are the
 *       application's: in force in {@link ClusterNode#config()}, nothing for the node to do.</li>
 * </ul>
 *
 * <p>ha-cluster has no logging settings of its own (logging is the SLF4J binding's, configured by
 * the application); Mattermost's {@code LogSettings} is another section, the application's.
 */
final class ReloadPolicy {

    private static final String READ_ONLY_CONFIG = ClusterSettings.SECTION + ".ReadOnlyConfig";
    private static final String REPLICA_LAG_SETTINGS = SqlSettings.SECTION + ".ReplicaLagSettings";

    private ReloadPolicy() {
    }

    /**
     * @param hasRouter whether the node runs a database router
     * @param dataSourceAddedOrRemoved whether the change turns the database on or off
     */
    static SettingChange.Status statusOf(ConfigDifference change, boolean hasRouter, boolean dataSourceAddedOrRemoved) {
        if (!change.usedByLibrary() || change.setting().equals(REPLICA_LAG_SETTINGS)) {
            return SettingChange.Status.NOT_USED;
        }
        if (change.setting().equals(READ_ONLY_CONFIG)) {
            return SettingChange.Status.APPLIED;
        }
        if (change.section().equals(SqlSettings.SECTION)) {
            return hasRouter && !dataSourceAddedOrRemoved ? SettingChange.Status.APPLIED
                    : SettingChange.Status.RESTART_REQUIRED;
        }
        return SettingChange.Status.RESTART_REQUIRED;
    }
}
