package io.hacluster;

import io.hacluster.health.HealthSource;
import io.hacluster.jobs.JobServer;
import io.hacluster.jobs.JobsEndpoint;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * A {@link ClusterNode} as the health endpoint sees it: healthy while RUNNING (the probe, from
 * memory), its status with the cluster infos, the election and the members, its jobs, and the
 * metrics scrape when one was configured.
 */
final class NodeHealthSource implements HealthSource {

    private final ClusterNode node;
    private final Supplier<String> metricsScrape;

    NodeHealthSource(ClusterNode node, Supplier<String> metricsScrape) {
        this.node = node;
        this.metricsScrape = metricsScrape;
    }

    @Override
    public boolean healthy() {
        return node.state() == LifecycleState.RUNNING;
    }

    @Override
    public String metrics() {
        return metricsScrape == null ? null : metricsScrape.get();
    }

    @Override
    public Object jobs(Map<String, String> query) throws java.sql.SQLException {
        JobServer jobs = node.jobServerOrNull();
        return jobs == null ? null : JobsEndpoint.answer(jobs, query);
    }

    @Override
    public Object clusterStatus() {
        Map<String, Object> status = new LinkedHashMap<>();
        LifecycleState state = node.state();
        status.put("id", node.id());
        status.put("state", state);
        if (state == LifecycleState.RUNNING) {
            status.put("healthScore", node.healthScore());
            status.put("clusterInfos", node.clusterInfos());
            Map<String, Object> election = node.electionStatus();
            if (election != null) {
                status.put("election", election);
            }
            status.put("members", node.members().stream().map(m -> Map.of(
                    "id", m.id(),
                    "address", m.gossipAddress().getAddress().getHostAddress() + ":" + m.gossipAddress().getPort(),
                    "state", m.state().name(),
                    "local", m.local())).collect(Collectors.toList()));
        }
        return status;
    }
}
