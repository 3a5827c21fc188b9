package io.hacluster;

import io.hacluster.config.JobSettings;
import io.hacluster.config.SqlSettings;
import io.hacluster.election.LeaderInfo;
import io.hacluster.election.LeaseSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * ClusterNodes of one test cluster whose ids the test orders: rank 1 sorts before rank 2, so
 * "the lowest id" is known in advance. Ids are stored in node id files, as in production.
 */
final class ElectionNodes implements AutoCloseable {

    final String cluster;
    final List<ClusterNode> nodes = new ArrayList<>();
    private final Path dir;
    private final SqlSettings sql;
    private final LeaseSettings lease;
    private final int quorum;
    private String seed;
    private boolean health;
    private String gossipPreset = "local";

    ElectionNodes(Path dir, SqlSettings sql, LeaseSettings lease, int quorum) {
        this(TestNodes.clusterName(), dir, sql, lease, quorum);
    }

    ElectionNodes(String cluster, Path dir, SqlSettings sql, LeaseSettings lease, int quorum) {
        this.cluster = cluster;
        this.dir = dir;
        this.sql = sql;
        this.lease = lease;
        this.quorum = quorum;
    }

    /**
     * Nodes started from now on use gossip's {@code lan} preset: slower failure detection, but
     * no false suspicions on a loaded machine, for tests that time what only a leave causes.
     */
    ElectionNodes withLanGossip() {
        gossipPreset = "lan";
        return this;
    }

    /** Nodes started from now on run the health endpoint (on a free loopback port). */
    ElectionNodes withHealthEndpoints() {
        health = true;
        return this;
    }

    /** The id of {@code rank}: 26 characters, ordered by rank. */
    static String idOf(int rank) {
        return String.format("e%025d", rank);
    }

    /** Starts the node of {@code rank}; the first started node is every later node's seed. */
    ClusterNode start(int rank, boolean mayLead) {
        Path idFile = dir.resolve(cluster + "-" + rank + ".id");
        try {
            Files.writeString(idFile, idOf(rank) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ClusterNodeBuilder b = ClusterNode.builder()
                .clusterSettings(TestNodes.settings(cluster, seed == null ? List.of() : List.of(seed))
                        .nodeIdFile(idFile.toString()).healthPort(health ? TestPorts.tcpAndUdp() : 0).gossipPreset(gossipPreset).build())
                .jobSettings(JobSettings.builder().runScheduler(mayLead).build())
                .leaseSettings(lease)
                .electionQuorum(quorum)
                .joinTimeout(Duration.ofSeconds(10))
                .leaveTimeout(Duration.ofSeconds(3));
        if (sql != null) {
            b.sqlSettings(sql);
        }
        ClusterNode n = b.build();
        n.start();
        nodes.add(n);
        if (seed == null) {
            seed = "127.0.0.1:" + n.gossipAddress().getPort();
        }
        return n;
    }

    List<ClusterNode> running() {
        return nodes.stream().filter(n -> n.state() == LifecycleState.RUNNING).toList();
    }

    /** Whether every running node knows the same leader, with id {@code expected}, and exactly it leads. */
    boolean allAgree(String expected) {
        List<ClusterNode> live = running();
        Optional<LeaderInfo> first = live.get(0).leader();
        if (first.isEmpty() || !first.get().id().equals(expected)) {
            return false;
        }
        for (ClusterNode n : live) {
            if (!n.leader().equals(first) || n.isLeader() != n.id().equals(expected)) {
                return false;
            }
        }
        return true;
    }

    /** Each running node's view, for failure messages. */
    String views() {
        StringBuilder out = new StringBuilder();
        for (ClusterNode n : running()) {
            out.append("\n  ").append(n.id()).append(": leader ").append(n.leader().orElse(null))
                    .append(", isLeader ").append(n.isLeader()).append(", live ")
                    .append(n.members().stream().filter(m -> m.state().isLive()).map(ClusterMember::id).toList());
        }
        return out.toString();
    }

    @Override
    public void close() {
        nodes.forEach(ClusterNode::close);
    }
}
