package io.hacluster;

import io.hacluster.identity.NodeMeta;

/**
 * What the local node knows about one cluster node (itself included) when it builds
 * {@link ClusterInfo}s: its last advertised meta, the address gossip reaches it at, and whether
 * gossip currently considers it alive.
 */
record PeerView(NodeMeta meta, String ipAddress, boolean reachable) {
}
