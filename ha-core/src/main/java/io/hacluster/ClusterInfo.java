package io.hacluster;

import java.util.Set;

/**
 * One node as every other node sees it: Mattermost's {@code model.ClusterInfo} fields plus a
 * status. The fields come from the node's gossip meta; {@code ipAddress} is the address gossip
 * reaches it at. An unreachable node keeps the last fields it advertised.
 *
 * @param id            node id
 * @param version       application version
 * @param schemaVersion database schema version
 * @param configHash    hash of its configuration without ClusterSettings
 * @param ipAddress     gossip address
 * @param hostname      advertised host
 * @param status        GREEN, or RED with {@code reasons}
 * @param reasons       empty exactly when {@code status} is GREEN
 */
public record ClusterInfo(String id, String version, String schemaVersion, String configHash,
                          String ipAddress, String hostname, NodeStatus status, Set<StatusReason> reasons) {

    public ClusterInfo {
        reasons = Set.copyOf(reasons);
        if ((status == NodeStatus.GREEN) != reasons.isEmpty()) {
            throw new IllegalArgumentException("status " + status + " does not agree with reasons " + reasons);
        }
    }
}
