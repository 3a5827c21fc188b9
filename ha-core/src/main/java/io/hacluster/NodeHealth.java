package io.hacluster;

/**
 * This node's health as a load balancer or monitoring sees it.
 *
 * @param state          lifecycle state
 * @param healthy        running, so the health endpoint answers 200; false while starting,
 *                       draining or closed
 * @param healthScore    Lifeguard's local health score, 0 is best (Mattermost's
 *                       {@code HealthScore()}); -1 when gossip is not running
 * @param aliveMembers   members gossip considers alive, this node included
 * @param suspectMembers members gossip currently suspects
 * @param redNodes       nodes whose {@link ClusterInfo} is RED
 */
public record NodeHealth(LifecycleState state, boolean healthy, int healthScore, int aliveMembers,
                         int suspectMembers, int redNodes) {
}
