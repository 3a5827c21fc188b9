package io.hacluster;

/** Where a {@link ClusterNode} is in its life. */
public enum LifecycleState {
    /** Built, {@link ClusterNode#start()} not called yet. */
    NEW,
    /** {@link ClusterNode#start()} is binding ports, registering and joining. */
    STARTING,
    /** Started: a member of the cluster. */
    RUNNING,
    /** {@link ClusterNode#close()} is draining, leaving and stopping. */
    CLOSING,
    /** Stopped; a closed node cannot be started again. */
    CLOSED
}
