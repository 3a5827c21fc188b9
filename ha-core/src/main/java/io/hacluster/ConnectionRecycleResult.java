package io.hacluster;

import java.util.List;
import java.util.Objects;

/**
 * What {@link ClusterNode#recycleDatabaseConnections()} did on one node.
 *
 * @param nodeId the node
 * @param pools every pool of the router, master first, as found when recycled
 * @param error why nothing was recycled (the router is closed), or null on success
 */
public record ConnectionRecycleResult(String nodeId, List<RecycledPool> pools, String error) {

    public ConnectionRecycleResult {
        Objects.requireNonNull(nodeId, "nodeId");
        pools = pools == null ? List.of() : List.copyOf(pools);
    }

    /** Whether the pools were recycled. */
    public boolean succeeded() {
        return error == null;
    }
}
