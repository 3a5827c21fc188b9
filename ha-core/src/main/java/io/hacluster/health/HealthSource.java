package io.hacluster.health;

/** What the health endpoint reports; implemented by the cluster node. Must not block. */
public interface HealthSource {

    /** Whether a load balancer should send traffic here: started, not closing, and healthy. */
    boolean healthy();

    /**
     * The body of {@code GET /api/v4/cluster/status}: any value Jackson serializes (records,
     * maps, lists). Must be safe to call from any thread.
     */
    Object clusterStatus();
}
