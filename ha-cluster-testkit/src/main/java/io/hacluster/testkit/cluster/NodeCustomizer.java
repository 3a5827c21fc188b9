package io.hacluster.testkit.cluster;

import io.hacluster.ClusterNode;
import io.hacluster.ClusterNodeBuilder;

/**
 * Adds an application's own parts to one node of a {@link TestCluster} before it starts, exactly
 * as production code does: register message handlers, jobs, leader listeners, tuning. The
 * builder already holds the node's loopback settings, its id file and (with a database) its
 * {@code SqlSettings}; a customizer that replaces those settings breaks the cluster.
 *
 * <p>Two hooks, because {@code ClusterNodeBuilder} holds settings and {@code ClusterNode} holds
 * handlers: {@link #customize} gets the builder (settings, tuning, clock...);
 * {@link #beforeStart} gets the built node before {@code start()}, the place to call
 * {@code registerHandler} and {@code onLeaderChange} as production code does before it joins.
 *
 * <p>Called once per start of a node: at cluster start, and again for each
 * {@link TestCluster#restart(int)}, so handlers registered here are there after a restart too.
 */
@FunctionalInterface
public interface NodeCustomizer {

    /**
     * @param index the node's index in the cluster, 0 to {@code nodes - 1}; stable across restarts
     * @param builder the node's builder, not built yet
     */
    void customize(int index, ClusterNodeBuilder builder);

    /**
     * Called with the built node before its {@code start()}: register message handlers and
     * listeners here. Does nothing unless overridden.
     *
     * @param index the node's index in the cluster; stable across restarts
     * @param node the node, built, not started
     */
    default void beforeStart(int index, ClusterNode node) {
    }

    /** A customizer that changes nothing. */
    static NodeCustomizer none() {
        return (index, builder) -> { };
    }
}
