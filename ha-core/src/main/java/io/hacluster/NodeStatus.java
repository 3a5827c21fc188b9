package io.hacluster;

/** A node's status as the System Console shows it: all good, or something needs attention. */
public enum NodeStatus {
    /** Reachable and running the same version and configuration as the cluster. */
    GREEN,
    /** See the {@link StatusReason}s of the {@link ClusterInfo}. */
    RED
}
