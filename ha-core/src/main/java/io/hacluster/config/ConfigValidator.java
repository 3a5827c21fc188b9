package io.hacluster.config;

import io.hacluster.db.Dsn;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks effective settings and lists every problem, each naming the setting and quoting the bad
 * value with anything that looks like a password masked ({@link SectionSchema#quote}); a DSN that
 * does not parse is not quoted at all. An operator fixes a configuration in one pass instead of
 * one error per restart.
 */
final class ConfigValidator {

    /** Gossip presets ha-gossip provides, with memberlist's timing numbers. */
    static final Set<String> GOSSIP_PRESETS = Set.of("lan", "wan", "local");

    /** The {@code ClusterDiscovery.ClusterName} column is {@code VARCHAR(64)}, as in Mattermost. */
    static final int MAX_CLUSTER_NAME_LENGTH = 64;

    private static final String C = ClusterSettings.SECTION + ".";
    private static final String S = SqlSettings.SECTION + ".";
    private static final String J = JobSettings.SECTION + ".";

    private ConfigValidator() {
    }

    static List<String> problems(ClusterSettings cluster, SqlSettings sql, JobSettings job) {
        List<String> problems = new ArrayList<>();
        checkCluster(cluster, problems);
        checkSql(sql, problems);
        checkElection(job, problems);
        return problems;
    }

    /**
     * The rules of {@code io.hacluster.election.LeaseSettings}, as configuration problems: the
     * leader must stop leading (renew deadline) before the lease can expire in the database, and
     * must be able to retry a failed renewal before its deadline.
     */
    private static void checkElection(JobSettings j, List<String> problems) {
        long lease = j.leaderLeaseMilliseconds();
        long deadline = j.leaderRenewDeadlineMilliseconds();
        long retry = j.leaderRetryPeriodMilliseconds();
        positive(J + "LeaderLeaseMilliseconds", lease, problems);
        positive(J + "LeaderRenewDeadlineMilliseconds", deadline, problems);
        positive(J + "LeaderRetryPeriodMilliseconds", retry, problems);
        if (lease > 0 && deadline > 0 && deadline >= lease) {
            problems.add(J + "LeaderRenewDeadlineMilliseconds: " + deadline + " is not less than " + J
                    + "LeaderLeaseMilliseconds (" + lease + "); the leader must stop leading before its lease can "
                    + "expire in the database, or two nodes could lead at once");
        }
        if (deadline > 0 && retry > 0 && retry >= deadline) {
            problems.add(J + "LeaderRetryPeriodMilliseconds: " + retry + " is not less than " + J
                    + "LeaderRenewDeadlineMilliseconds (" + deadline + "); the leader would lose its lease on the "
                    + "first failed renewal, with no retry before its deadline");
        }
        notNegative(J + "LeaderElectionQuorum", j.leaderElectionQuorum(), problems);
    }

    private static void checkCluster(ClusterSettings c, List<String> problems) {
        port(C + "GossipPort", c.gossipPort(), problems);
        port(C + "StreamingPort", c.streamingPort(), problems);
        if (c.gossipPort() == c.streamingPort()) {
            problems.add(C + "GossipPort and " + C + "StreamingPort: both are " + c.gossipPort()
                    + "; gossip and streaming need their own ports");
        }
        if (c.healthPort() != 0) {
            port(C + "HealthPort", c.healthPort(), problems);
            if (c.healthPort() == c.gossipPort() || c.healthPort() == c.streamingPort()) {
                problems.add(C + "HealthPort: " + c.healthPort()
                        + " is already the gossip or streaming port; use another port, or 0 to turn it off");
            }
        }
        if (c.enable() && c.clusterName().isBlank()) {
            problems.add(C + "ClusterName: " + quote(c.clusterName()) + " is empty while " + C
                    + "Enable is true; nodes would not know which cluster to join");
        }
        if (c.clusterName().length() > MAX_CLUSTER_NAME_LENGTH) {
            problems.add(C + "ClusterName: " + quote(c.clusterName()) + " is " + c.clusterName().length()
                    + " characters; at most " + MAX_CLUSTER_NAME_LENGTH + " fit the discovery table");
        }
        if (!GOSSIP_PRESETS.contains(c.gossipPreset().toLowerCase(Locale.ROOT))) {
            problems.add(C + "GossipPreset: " + quote(c.gossipPreset()) + " is not one of lan, wan, local");
        }
        // HA_CLUSTERSETTINGS_SEEDS is split on whitespace, so a password in it ("password = pw")
        // becomes a seed of its own that no masker can recognise: when the list as a whole looks
        // like it holds a secret, no seed of it is quoted.
        String allSeeds = String.join(" ", c.seeds());
        boolean quoteSeeds = Dsn.mask(allSeeds).equals(allSeeds);
        for (int i = 0; i < c.seeds().size(); i++) {
            String seed = c.seeds().get(i);
            try {
                HostPort.parse(seed);
            } catch (IllegalArgumentException e) {
                problems.add(C + "Seeds[" + i + "]: " + (quoteSeeds ? quote(seed) : "(not shown: the seed list looks "
                        + "like it holds a password)") + " is not host:port: " + e.getMessage());
            }
        }
        positive(C + "DiscoveryIntervalSeconds", c.discoveryIntervalSeconds(), problems);
        positive(C + "DiscoveryOfflineAfterSeconds", c.discoveryOfflineAfterSeconds(), problems);
        if (c.discoveryIntervalSeconds() > 0 && c.discoveryOfflineAfterSeconds() > 0
                && c.discoveryOfflineAfterSeconds() <= c.discoveryIntervalSeconds()) {
            problems.add(C + "DiscoveryOfflineAfterSeconds: " + c.discoveryOfflineAfterSeconds()
                    + " is not more than " + C + "DiscoveryIntervalSeconds (" + c.discoveryIntervalSeconds()
                    + "); live nodes would look offline between two refreshes");
        }
        positive(C + "MaxMessageSizeBytes", c.maxMessageSizeBytes(), problems);
        positive(C + "PeerQueueSize", c.peerQueueSize(), problems);
        positive(C + "MaxClockSkewMilliseconds", c.maxClockSkewMilliseconds(), problems);
        if (!c.gossipEncryptionKey().isEmpty()) {
            try {
                io.hacluster.gossip.Keyring.decodeKey(c.gossipEncryptionKey());
            } catch (IllegalArgumentException e) {
                // never quoted: the value is a secret, and a near-miss of one
                problems.add(C + "GossipEncryptionKey: (not shown) " + e.getMessage());
            }
        }
        StreamSecurityValidator.check(c, problems);
    }

    private static void checkSql(SqlSettings s, List<String> problems) {
        if ("mysql".equals(s.driverName())) {
            // Mattermost's other driver: one clear problem, not one per MySQL-shaped DSN
            problems.add(S + "DriverName: \"mysql\" is not supported: ha-cluster's router speaks PostgreSQL only; "
                    + "set DriverName to postgres with postgres:// DSNs, or drop SqlSettings.DataSource and cluster "
                    + "through ClusterSettings.Seeds without a database");
            return;
        }
        if (!"postgres".equals(s.driverName())) {
            problems.add(S + "DriverName: " + quote(s.driverName()) + " is not supported; only postgres is");
        }
        if (s.dataSource().isEmpty()) {
            if (!s.dataSourceReplicas().isEmpty() || !s.dataSourceSearchReplicas().isEmpty()) {
                problems.add(S + "DataSource: is empty but replicas are configured; replicas need a master");
            }
        } else {
            dsn(S + "DataSource", s.dataSource(), problems);
        }
        for (int i = 0; i < s.dataSourceReplicas().size(); i++) {
            dsn(S + "DataSourceReplicas[" + i + "]", s.dataSourceReplicas().get(i), problems);
        }
        for (int i = 0; i < s.dataSourceSearchReplicas().size(); i++) {
            dsn(S + "DataSourceSearchReplicas[" + i + "]", s.dataSourceSearchReplicas().get(i), problems);
        }
        for (int i = 0; i < s.replicaLagSettings().size(); i++) {
            ReplicaLagSetting lag = s.replicaLagSettings().get(i);
            String path = S + "ReplicaLagSettings[" + i + "]";
            dsn(path + ".DataSource", lag.dataSource(), problems);
            if (lag.queryAbsoluteLag().isBlank() && lag.queryTimeLag().isBlank()) {
                problems.add(path + ": has neither QueryAbsoluteLag nor QueryTimeLag; give at least one query");
            }
        }
        notNegative(S + "MaxIdleConns", s.maxIdleConns(), problems);
        positive(S + "MaxOpenConns", s.maxOpenConns(), problems);
        if (s.maxIdleConns() > s.maxOpenConns() && s.maxOpenConns() > 0) {
            problems.add(S + "MaxIdleConns: " + s.maxIdleConns() + " is more than " + S + "MaxOpenConns ("
                    + s.maxOpenConns() + ")");
        }
        notNegative(S + "ConnMaxLifetimeMilliseconds", s.connMaxLifetimeMilliseconds(), problems);
        notNegative(S + "ConnMaxIdleTimeMilliseconds", s.connMaxIdleTimeMilliseconds(), problems);
        notNegative(S + "QueryTimeout", s.queryTimeout(), problems);
        positive(S + "ReplicaMonitorIntervalSeconds", s.replicaMonitorIntervalSeconds(), problems);
        notNegative(S + "ReplicaMaxLagBytes", s.replicaMaxLagBytes(), problems);
        notNegative(S + "ReplicaMaxLagMilliseconds", s.replicaMaxLagMilliseconds(), problems);
    }

    private static String quote(String value) {
        return SectionSchema.quote(value);
    }

    private static void port(String setting, int port, List<String> problems) {
        if (port < 1 || port > 65535) {
            problems.add(setting + ": " + port + " is out of range 1..65535");
        }
    }

    private static void positive(String setting, long value, List<String> problems) {
        if (value <= 0) {
            problems.add(setting + ": " + value + " must be greater than 0");
        }
    }

    private static void notNegative(String setting, long value, List<String> problems) {
        if (value < 0) {
            problems.add(setting + ": " + value + " must not be negative");
        }
    }

    /** Dsn.parse never quotes its input, so its message can be passed on. */
    private static void dsn(String setting, String text, List<String> problems) {
        try {
            Dsn.parse(text);
        } catch (IllegalArgumentException e) {
            problems.add(setting + ": " + e.getMessage());
        }
    }
}
