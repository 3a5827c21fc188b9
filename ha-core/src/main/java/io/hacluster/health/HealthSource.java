package io.hacluster.health;

/**
 * What the health endpoint reports; implemented by the cluster node. {@link #healthy()} must not
 * block (the probe is answered on the event loop); the others run on the endpoint's query thread
 * and may ask the database.
 */
public interface HealthSource {

    /** Whether a load balancer should send traffic here: started, not closing, and healthy. */
    boolean healthy();

    /**
     * The body of {@code GET /api/v4/cluster/status}: any value Jackson serializes (records,
     * maps, lists). Must be safe to call from any thread.
     */
    Object clusterStatus();

    /**
     * The body of {@code GET /api/v4/jobs}, or null when this node has no job server (404).
     *
     * @param query the request's query parameters ({@code type}, {@code status}, {@code limit})
     * @throws IllegalArgumentException for a bad parameter (400 with the message)
     * @throws Exception when the jobs cannot be read now (503)
     */
    default Object jobs(java.util.Map<String, String> query) throws Exception {
        return null;
    }

    /**
     * The body of {@code GET /metrics} in Prometheus' text format, or null when metrics are not
     * configured (404).
     */
    default String metrics() {
        return null;
    }
}
