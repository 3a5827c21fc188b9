package io.hacluster;

/** Why a node shows {@link NodeStatus#RED}. A node can have several reasons at once. */
public enum StatusReason {
    /** Gossip suspects the node or has declared it dead. */
    UNREACHABLE,
    /**
     * The node's version differs in major or minor from the cluster's, or its schema version
     * differs (see {@link VersionCompatibility}).
     */
    VERSION_MISMATCH,
    /** The node's config hash differs from the cluster's. */
    CONFIG_HASH_MISMATCH,
    /**
     * The node's wall clock is further than {@code ClusterSettings.MaxClockSkewMilliseconds} from
     * the cluster's, beyond the measurement's uncertainty (see {@link ClockOffset} and
     * docs/cluster-node.md). The node's own view shows it too: it sees every other clock off.
     */
    CLOCK_SKEW
}
