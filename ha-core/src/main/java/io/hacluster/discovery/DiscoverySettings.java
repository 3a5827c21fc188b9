package io.hacluster.discovery;

import java.time.Duration;

/**
 * How this node registers itself in the discovery table.
 *
 * @param type          row Type; Mattermost uses {@value #DEFAULT_TYPE}
 * @param clusterName   ClusterSettings.ClusterName; rows of other clusters are ignored
 * @param hostname      the advertised host peers dial
 * @param gossipPort    the gossip port peers join
 * @param port          the streaming port
 * @param pingInterval  how often LastPingAt is refreshed and the table re-read (Mattermost: 60 s)
 * @param offlineAfter  rows older than this are stale: skipped as seeds and deleted at start
 *                      (Mattermost: 30 min)
 */
public record DiscoverySettings(String type, String clusterName, String hostname, int gossipPort, int port,
                                Duration pingInterval, Duration offlineAfter) {

    /** Mattermost's {@code model.CDSTypeApp}. */
    public static final String DEFAULT_TYPE = "mattermost_app";

    public DiscoverySettings {
        if (type == null || type.isEmpty() || type.length() > 64) {
            throw new IllegalArgumentException("discovery type must be 1..64 characters");
        }
        if (clusterName == null || clusterName.isEmpty() || clusterName.length() > 64) {
            throw new IllegalArgumentException("ClusterName must be 1..64 characters for discovery");
        }
        if (hostname == null || hostname.isEmpty() || hostname.length() > 512) {
            throw new IllegalArgumentException("hostname must be 1..512 characters");
        }
        if (gossipPort < 1 || gossipPort > 65535 || port < 1 || port > 65535) {
            throw new IllegalArgumentException("ports must be 1..65535");
        }
        if (pingInterval.isNegative() || pingInterval.isZero()) {
            throw new IllegalArgumentException("pingInterval must be positive");
        }
        if (offlineAfter.compareTo(pingInterval) <= 0) {
            throw new IllegalArgumentException("offlineAfter (" + offlineAfter
                    + ") must be longer than pingInterval (" + pingInterval + "), or live rows go stale");
        }
    }
}
