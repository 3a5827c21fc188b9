package io.hacluster.discovery;

/**
 * One row of Mattermost's {@code ClusterDiscovery} table: a live node announcing where its
 * gossip ({@code gossipPort}) and streaming ({@code port}) listeners are.
 *
 * @param id          the node id
 * @param type        the service type, Mattermost's {@code CDSTypeApp} by default
 * @param clusterName ClusterSettings.ClusterName
 * @param hostname    the advertised host
 * @param gossipPort  ClusterSettings.GossipPort
 * @param port        ClusterSettings.StreamingPort
 * @param createAt    epoch millis of the first insert
 * @param lastPingAt  epoch millis of the last refresh
 */
public record DiscoveryRow(String id, String type, String clusterName, String hostname,
                           int gossipPort, int port, long createAt, long lastPingAt) {
}
