package io.hacluster;

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
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fixed set of ranked ClusterNodes with the database lease, each with its own gossip and
 * streaming port and its own database DSN for the whole test, so a crashed node restarts under
 * the same id on the same ports. Ids are ordered by rank ({@link ElectionNodes#idOf}). Gossip uses
 * the local preset (fast failure detection on loopback) with a TCP timeout long enough for a cold
 * push/pull on a loaded host; every node lists every other node as a static seed, and the
 * discovery table (in the lease's database) rejoins nodes after a partition heals.
 */
final class LeaseNodes implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LeaseNodes.class);
    /** How long a restart keeps trying while the crashed process's ports are still being released. */
    private static final Duration RESTART_WAIT = Duration.ofSeconds(15);

    final String cluster = TestNodes.clusterName();
    private final Path dir;
    private final LeaseSettings lease;
    private final IntFunction<String> dsnOf;
    private final int[] gossipPorts;
    private final int[] streamPorts;
    private final ClusterNode[] nodes;

    /**
     * @param size ranks 1..size
     * @param dsnOf the DSN rank {@code r} uses for its router (lease, discovery, application)
     */
    LeaseNodes(Path dir, LeaseSettings lease, int size, IntFunction<String> dsnOf) {
        this.dir = dir;
        this.lease = lease;
        this.dsnOf = dsnOf;
        this.gossipPorts = new int[size];
        this.streamPorts = new int[size];
        this.nodes = new ClusterNode[size];
        for (int i = 0; i < size; i++) {
            gossipPorts[i] = TestPorts.tcpAndUdp();
            streamPorts[i] = TestPorts.tcpAndUdp();
        }
    }

    int size() {
        return nodes.length;
    }

    /** The running node of {@code rank}, or null when it is crashed or not started. */
    synchronized ClusterNode node(int rank) {
        return nodes[rank - 1];
    }

    /** The running nodes, by rank. */
    synchronized List<ClusterNode> running() {
        List<ClusterNode> out = new ArrayList<>();
        for (ClusterNode n : nodes) {
            if (n != null) {
                out.add(n);
            }
        }
        return out;
    }

    /** Every rank's id, running or not. */
    List<String> ids() {
        List<String> out = new ArrayList<>();
        for (int r = 1; r <= nodes.length; r++) {
            out.add(ElectionNodes.idOf(r));
        }
        return out;
    }

    /**
     * Starts rank {@code rank} (again, after a crash) under its id and ports. Retries for a while
     * when the start fails, as it does while the previous process's sockets are still closing.
     */
    ClusterNode start(int rank) {
        if (node(rank) != null) {
            throw new IllegalStateException("rank " + rank + " is running");
        }
        Path idFile = dir.resolve(cluster + "-" + rank + ".id");
        try {
            Files.writeString(idFile, ElectionNodes.idOf(rank) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> seeds = new ArrayList<>();
        for (int i = 0; i < nodes.length; i++) {
            if (i != rank - 1) {
                seeds.add("127.0.0.1:" + gossipPorts[i]);
            }
        }
        long deadline = System.nanoTime() + RESTART_WAIT.toNanos();
        for (int attempt = 1; ; attempt++) {
            ClusterNode n = ClusterNode.builder()
                    .clusterSettings(TestNodes.settings(cluster, seeds)
                            .gossipPort(gossipPorts[rank - 1]).streamingPort(streamPorts[rank - 1])
                            .nodeIdFile(idFile.toString()).gossipPreset("local").build())
                    .sqlSettings(SqlSettings.builder().dataSource(dsnOf.apply(rank)).maxOpenConns(4)
                            .maxIdleConns(2).build())
                    .leaseSettings(lease)
                    .gossipTuning(b -> b.tcpTimeout(Duration.ofSeconds(5)))
                    .joinTimeout(Duration.ofSeconds(10))
                    .leaveTimeout(Duration.ofSeconds(3))
                    .build();
            try {
                n.start();
            } catch (ClusterStartException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                LOG.info("rank {} did not start (attempt {}): {}; retrying", rank, attempt, e.getMessage());
                sleep(250);
                continue;
            }
            synchronized (this) {
                nodes[rank - 1] = n;
            }
            return n;
        }
    }

    /**
     * Crashes rank {@code rank}: gossip and messaging stop at once without a leave and the lease
     * is neither renewed nor released ({@code haltForTests}); then the rest of the process (its
     * router, its threads) is cleaned up, as the operating system would.
     */
    void crash(int rank) {
        ClusterNode n;
        synchronized (this) {
            n = nodes[rank - 1];
            nodes[rank - 1] = null;
        }
        if (n != null) {
            n.haltForTests();
            n.close();
        }
    }

    /**
     * The leader every running node agrees on, when there is one: the same {@code leader()} on
     * each, and exactly that node {@code isLeader()}.
     */
    Optional<LeaderInfo> agreedLeader() {
        List<ClusterNode> live = running();
        if (live.isEmpty()) {
            return Optional.empty();
        }
        Optional<LeaderInfo> first = live.get(0).leader();
        if (first.isEmpty()) {
            return Optional.empty();
        }
        for (ClusterNode n : live) {
            if (!n.leader().equals(first) || n.isLeader() != n.id().equals(first.get().id())) {
                return Optional.empty();
            }
        }
        return first;
    }

    /** Whether every running node lists exactly the running nodes as live gossip members. */
    boolean membershipConverged() {
        List<ClusterNode> live = running();
        List<String> expected = live.stream().map(ClusterNode::id).sorted().toList();
        for (ClusterNode n : live) {
            List<String> seen = n.members().stream().filter(m -> m.state().isLive()).map(ClusterMember::id)
                    .sorted().toList();
            if (!seen.equals(expected)) {
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

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        running().forEach(ClusterNode::close);
    }
}
