package io.hacluster.config;

import java.util.List;
import java.util.Map;

/**
 * Fields Mattermost has (or had, or its documentation writes) in the sections this library reads,
 * beyond those the settings records model. A Mattermost operator's {@code config.json} carries
 * them, so they are accepted, kept exactly as read and written back by {@code save}, and listed
 * once at INFO as not used by ha-cluster; only a name in none of these lists is an error.
 *
 * <p>Sources: {@code server/public/model/config.go} of mattermost/mattermost across versions, and
 * Mattermost's HA documentation (whose examples write {@code "UseGossip"}).
 */
final class MattermostFields {

    /** Mattermost's fields that no settings record models, by section; canonical spelling. */
    static final Map<String, List<String>> KEPT_UNUSED = Map.of(
            ClusterSettings.SECTION, List.of(
                    "UseExperimentalGossip",        // 4.x-5.x; gossip can no longer be turned off
                    "UseGossip",                    // the spelling of Mattermost's HA documentation
                    "MaxIdleConns",                 // inter-node HTTP client of 4.x-9.x
                    "MaxIdleConnsPerHost",
                    "IdleConnTimeoutMilliseconds",
                    "InterNodeListenAddress",       // 3.x clustering, before gossip
                    "InterNodeUrls"),
            SqlSettings.SECTION, List.of(
                    "Trace",
                    "AtRestEncryptKey",             // a secret: never printed or logged, whatever the form
                    "DisableDatabaseSearch",
                    "MigrationsStatementTimeoutSeconds"),
            JobSettings.SECTION, List.of());

    /** Fields a record models for the application's sake that ha-cluster itself does not act on. */
    static final Map<String, List<String>> MODELLED_UNUSED = Map.of(
            JobSettings.SECTION, List.of("CleanupConfigThresholdDays"));

    private MattermostFields() {
    }

    /** The kept-unused names of {@code section}; empty for a section that is not ours. */
    static List<String> keptUnused(String section) {
        return KEPT_UNUSED.getOrDefault(section, List.of());
    }

    /** The modelled names of {@code section} ha-cluster does not act on. */
    static List<String> modelledUnused(String section) {
        return MODELLED_UNUSED.getOrDefault(section, List.of());
    }
}
