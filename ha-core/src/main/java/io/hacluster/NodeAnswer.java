package io.hacluster;

import java.util.Objects;

/**
 * One node's part of a cluster-wide operation ({@link ClusterWide}): its result, or why there is
 * none (no answer within the deadline, the node died or left, it has no handler for the operation
 * because it runs an older version, or its answer could not be read).
 *
 * @param nodeId the node
 * @param result what the node reported (which may itself say the operation failed there), or null
 * @param failure why there is no result, or null
 * @param <T> the operation's result type
 */
public record NodeAnswer<T>(String nodeId, T result, String failure) {

    public NodeAnswer {
        Objects.requireNonNull(nodeId, "nodeId");
        if ((result == null) == (failure == null)) {
            throw new IllegalArgumentException("exactly one of result and failure must be set");
        }
    }

    /** Whether the node answered. */
    public boolean answered() {
        return result != null;
    }
}
