package io.hacluster;

import java.util.Collection;
import java.util.List;

/**
 * Network partitions between in-JVM ClusterNodes: gossip blocked ({@code gossipFaults()}) and the
 * reliable streams cut ({@code streamFaults()}) for every pair across two groups, on both sides,
 * so neither gossip nor the election's messages cross while the database stays reachable.
 */
final class Partitions {

    private Partitions() {
    }

    /** Cuts every node of {@code a} off from every node of {@code b}, in both directions. */
    static void split(Collection<ClusterNode> a, Collection<ClusterNode> b) {
        for (ClusterNode x : a) {
            for (ClusterNode y : b) {
                cut(x, y);
                cut(y, x);
            }
        }
    }

    /** Cuts the groups off from each other, pairwise; a node in no group is not touched. */
    static void split(List<? extends Collection<ClusterNode>> groups) {
        for (int i = 0; i < groups.size(); i++) {
            for (int j = i + 1; j < groups.size(); j++) {
                split(groups.get(i), groups.get(j));
            }
        }
    }

    /** {@code from} stops talking to and hearing from {@code to} (one side of a cut). */
    static void cut(ClusterNode from, ClusterNode to) {
        from.gossipFaults().block(to.gossipAddress());
        from.streamFaults().cut(to.id());
    }

    /** Removes every gossip fault of each of {@code nodes} and restores its streams to the others. */
    static void heal(Collection<ClusterNode> nodes) {
        heal(nodes, nodes.stream().map(ClusterNode::id).toList());
    }

    /**
     * Removes every gossip fault of each of {@code nodes} (all running) and restores its streams
     * to each of {@code ids}, running or not (a crashed node restarts under its old id).
     */
    static void heal(Collection<ClusterNode> nodes, Collection<String> ids) {
        for (ClusterNode x : nodes) {
            x.gossipFaults().heal();
            for (String y : ids) {
                if (!y.equals(x.id()) && x.streamFaults().isCut(y)) {
                    x.streamFaults().restore(y);
                }
            }
        }
    }
}
