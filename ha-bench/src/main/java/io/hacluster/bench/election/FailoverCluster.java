package io.hacluster.bench.election;

import io.hacluster.ClusterMember;
import io.hacluster.ClusterNode;
import io.hacluster.ClusterNodeBuilder;
import io.hacluster.LifecycleState;
import io.hacluster.MembershipState;
import io.hacluster.config.ClusterSettings;
import io.hacluster.config.SqlSettings;
import io.hacluster.election.LeaderInfo;
import io.hacluster.election.LeaseSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * In-JVM ClusterNodes of one cluster for {@link FailoverBenchmark}, on 127.0.0.1: ranks 1..n
 * whose ids sort by rank (rank 1 is the leader), each with its own node id file and fixed ports,
 * so a rank restarted after a crash or a close rejoins under the same gossip name and address, as
 * a restarted server does. With {@code sql} the nodes elect with the lease in that database;
 * without it, with the bully rule alone.
 */
final class FailoverCluster implements AutoCloseable {

    /**
     * {@code ClusterNode.haltForTests()}: stops the node as a crash does (no leave, no lease
     * release, sockets closed abruptly). Package-private in io.hacluster, so reached reflectively.
     */
    private static final Method HALT;

    static {
        try {
            HALT = ClusterNode.class.getDeclaredMethod("haltForTests");
            HALT.setAccessible(true);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final String cluster = "f-" + UUID.randomUUID().toString().substring(0, 8);
    private final Path dir;
    private final String preset;
    private final SqlSettings sql;
    private final LeaseSettings lease;
    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final ClusterNode[] nodes;
    private final int[][] ports;
    private Connection db;

    /**
     * @param jdbcUrl user password the lease database for reading the row (ignored without sql)
     */
    FailoverCluster(Path dir, int size, String preset, SqlSettings sql, LeaseSettings lease, String jdbcUrl,
                    String user, String password) {
        this.dir = dir;
        this.preset = preset;
        this.sql = sql;
        this.lease = lease;
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        this.nodes = new ClusterNode[size + 1];
        this.ports = new int[size + 1][];
        for (int rank = 1; rank <= size; rank++) {
            ports[rank] = new int[] {freePort(), freePort()};
        }
    }

    boolean withLease() {
        return sql != null;
    }

    int size() {
        return nodes.length - 1;
    }

    static String idOf(int rank) {
        return String.format("f%025d", rank);
    }

    ClusterNode node(int rank) {
        return nodes[rank];
    }

    /** Starts every rank, the lowest first (the seed of the others). */
    void startAll() {
        for (int rank = 1; rank <= size(); rank++) {
            start(rank);
        }
    }

    /** Starts (or restarts) {@code rank} with its id file and ports. Seeds: every other rank. */
    void start(int rank) {
        Path idFile = dir.resolve(cluster + "-" + rank + ".id");
        try {
            Files.writeString(idFile, idOf(rank) + "\n", StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> seeds = new ArrayList<>();
        for (int other = 1; other <= size(); other++) {
            if (other != rank && nodes[other] != null && nodes[other].state() == LifecycleState.RUNNING) {
                seeds.add("127.0.0.1:" + ports[other][0]);
            }
        }
        ClusterSettings settings = ClusterSettings.builder()
                .enable(true)
                .clusterName(cluster)
                .overrideHostname("127.0.0.1")
                .bindAddress("127.0.0.1")
                .gossipPort(ports[rank][0])
                .streamingPort(ports[rank][1])
                .gossipPreset(preset)
                .nodeIdFile(idFile.toString())
                .seeds(seeds)
                .build();
        ClusterNodeBuilder b = ClusterNode.builder().clusterSettings(settings).leaseSettings(lease)
                .joinTimeout(Duration.ofSeconds(10)).leaveTimeout(Duration.ofSeconds(3));
        if (sql != null) {
            b.sqlSettings(sql);
        }
        ClusterNode n = b.build();
        n.start();
        nodes[rank] = n;
    }

    /** A crash of {@code rank}: halted at once, then its threads are waited for (nothing is sent). */
    void crash(int rank) {
        try {
            HALT.invoke(nodes[rank]);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot halt " + idOf(rank), e);
        }
    }

    /** After {@link #crash}: releases what the halted node still holds in this JVM (threads, executors). */
    void reap(int rank) {
        nodes[rank].close();
        nodes[rank] = null;
    }

    /** A graceful close of {@code rank} (release, RESIGN, leave), blocking until it is closed. */
    void closeNode(int rank) {
        nodes[rank].close();
    }

    void forget(int rank) {
        nodes[rank] = null;
    }

    /** The running ranks other than {@code except}. */
    List<ClusterNode> others(int except) {
        List<ClusterNode> out = new ArrayList<>();
        for (int r = 1; r <= size(); r++) {
            if (r != except && nodes[r] != null && nodes[r].state() == LifecycleState.RUNNING) {
                out.add(nodes[r]);
            }
        }
        return out;
    }

    /** Every node of {@code among} shows {@code rank} as leader with one epoch and token, and only it leads. */
    static boolean agree(List<ClusterNode> among, int rank) {
        Optional<LeaderInfo> first = Optional.empty();
        for (ClusterNode n : among) {
            Optional<LeaderInfo> l = n.leader();
            if (l.isEmpty() || !l.get().id().equals(idOf(rank))) {
                return false;
            }
            if (first.isEmpty()) {
                first = l;
            } else if (l.get().epoch() != first.get().epoch() || l.get().fencingToken() != first.get().fencingToken()) {
                return false;
            }
            if (n.isLeader() != n.id().equals(idOf(rank))) {
                return false;
            }
        }
        return !among.isEmpty();
    }

    /** Every node of {@code among} lists {@code rank} as DEAD or LEFT. */
    static boolean allSeeGone(List<ClusterNode> among, int rank) {
        for (ClusterNode n : among) {
            boolean gone = false;
            for (ClusterMember m : n.members()) {
                if (m.id().equals(idOf(rank))) {
                    gone = m.state() == MembershipState.DEAD || m.state() == MembershipState.LEFT;
                }
            }
            if (!gone) {
                return false;
            }
        }
        return true;
    }

    /** Waits, bounded, until every running node agrees on {@code rank} (and with a lease, the row says so too). */
    void awaitAgreement(int rank, Duration timeout) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (agree(others(0), rank) && (!withLease() || idOf(rank).equals(holder()))) {
                return;
            }
            Thread.sleep(20);
        }
        StringBuilder views = new StringBuilder();
        for (ClusterNode n : others(0)) {
            views.append("\n  ").append(n.id()).append(": ").append(n.leader().orElse(null)).append(", isLeader ")
                    .append(n.isLeader()).append(", members ").append(n.members());
        }
        throw new IllegalStateException("cluster " + cluster + ": no agreement on " + idOf(rank) + " within "
                + timeout + (withLease() ? ", lease holder " + holder() : "") + views);
    }

    /** The lease row's holder while held, else null. */
    String holder() throws SQLException {
        long[] ignored = new long[1];
        return row(ignored);
    }

    /** The lease's holder (null if released or expired); {@code remaining[0]} its remaining ms as the database says. */
    String row(long[] remaining) throws SQLException {
        if (db == null) {
            db = DriverManager.getConnection(jdbcUrl, user, password);
        }
        try (PreparedStatement st = db.prepareStatement(
                "SELECT CASE WHEN holder_id IS NOT NULL AND expires_at > clock_timestamp() THEN holder_id END, "
                        + "GREATEST(0, floor(extract(epoch FROM (expires_at - clock_timestamp())) * 1000))::bigint "
                        + "FROM ha_leader_lease WHERE cluster_name = ?")) {
            st.setString(1, cluster);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    remaining[0] = 0;
                    return null;
                }
                remaining[0] = rs.getLong(2);
                return rs.getString(1);
            }
        }
    }

    @Override
    public void close() {
        for (int r = nodes.length - 1; r >= 1; r--) {
            if (nodes[r] != null) {
                nodes[r].close();
            }
        }
        if (db != null) {
            try {
                db.close();
            } catch (SQLException e) {
                // closing anyway
            }
        }
    }

    /** A port free for TCP and UDP on loopback (gossip uses both on one number). */
    private static int freePort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket tcp = new ServerSocket()) {
                tcp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                int port = tcp.getLocalPort();
                try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                    return port;
                } catch (IOException taken) {
                    // try another
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no free port");
    }
}
