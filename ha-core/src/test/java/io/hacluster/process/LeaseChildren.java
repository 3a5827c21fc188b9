package io.hacluster.process;

import io.hacluster.election.LeaseSettings;
import io.hacluster.gossip.GossipConfig;
import io.hacluster.testkit.PostgresServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Child-JVM nodes of one cluster that elect with the lease in a real PostgreSQL primary. Ids are
 * ordered by rank (rank 1 sorts lowest) and kept in node id files, so a restarted rank has the
 * same id; each rank keeps its ports across restarts. The first started rank is the seed of the
 * others.
 */
final class LeaseChildren implements AutoCloseable {

    /** The lease row as the database sees it: holder (null when released or expired), token, epoch, remaining ms. */
    record Row(String holder, long token, long epoch, long remainingMillis) {
    }

    /** {@code LeaseStore.TABLE}, package-private in the election package. */
    static final String TABLE = "ha_leader_lease";

    static final Duration START = Duration.ofSeconds(60);

    final String cluster = "l-" + UUID.randomUUID().toString().substring(0, 8);
    final List<ChildNode> children = new ArrayList<>();
    private final Path dir;
    private final PostgresServer primary;
    private final String preset;
    private final LeaseSettings lease;
    private final Map<Integer, int[]> ports = new HashMap<>();
    private Integer seedPort;

    LeaseChildren(Path dir, PostgresServer primary, String preset, LeaseSettings lease) {
        this.dir = dir;
        this.primary = primary;
        this.preset = preset;
        this.lease = lease;
    }

    static String idOf(int rank) {
        return String.format("l%025d", rank);
    }

    /** Starts (or restarts) {@code rank}'s child and waits for its READY. */
    ChildNode start(int rank) throws Exception {
        Path idFile = dir.resolve(cluster + "-" + rank + ".id");
        Files.writeString(idFile, idOf(rank) + "\n", StandardCharsets.US_ASCII);
        int[] p = ports.computeIfAbsent(rank,
                r -> new int[] {GracefulDepartureProcessTest.freePort(), GracefulDepartureProcessTest.freePort()});
        String seeds = seedPort == null || seedPort == p[0] ? "" : "127.0.0.1:" + seedPort;
        ChildNode c = ChildNode.start("lease-" + rank + "-" + (children.size() + 1), cluster, idFile, p[0], p[1], seeds,
                Duration.ofSeconds(10), ChildNode.Options.withLease(preset, lease, primary.dsn()));
        children.add(c);
        if (seedPort == null) {
            seedPort = p[0];
        }
        c.await(l -> l.equals("READY " + idOf(rank)), START, "READY");
        return c;
    }

    /** The lease row of this cluster, or null before any node created it. */
    Row row(Connection c) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(
                "SELECT CASE WHEN holder_id IS NOT NULL AND expires_at > clock_timestamp() THEN holder_id END, "
                        + "fencing_token, epoch, GREATEST(0, floor(extract(epoch FROM (expires_at - clock_timestamp()))"
                        + " * 1000))::bigint FROM " + TABLE + " WHERE cluster_name = ?")) {
            st.setString(1, cluster);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? new Row(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)) : null;
            }
        }
    }

    /**
     * Waits, bounded, until every one of {@code nodes} answers LEADER with {@code rank}'s id and
     * the same epoch and token, exactly {@code rank}'s own node says it leads, and the lease row
     * has that holder and token. Returns the agreed answer of {@code rank}'s node.
     */
    String[] awaitAgreement(List<ChildNode> nodes, ChildNode leader, int rank, Connection db, Duration timeout)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            String[] mine = leader.leader(Duration.ofSeconds(10));
            boolean ok = mine[2].equals(idOf(rank)) && mine[5].equals("true");
            StringBuilder views = new StringBuilder();
            for (ChildNode n : nodes) {
                String[] v = n == leader ? mine : n.leader(Duration.ofSeconds(10));
                views.append(n.name).append('=').append(String.join(" ", v)).append("; ");
                ok &= v[2].equals(mine[2]) && v[3].equals(mine[3]) && v[4].equals(mine[4])
                        && v[5].equals(String.valueOf(n == leader));
            }
            Row row = row(db);
            views.append("row=").append(row);
            if (ok && row != null && idOf(rank).equals(row.holder()) && String.valueOf(row.token()).equals(mine[4])) {
                return mine;
            }
            last = views.toString();
            Thread.sleep(100);
        }
        throw new AssertionError("no agreement on " + idOf(rank) + " within " + timeout + ": " + last);
    }

    /**
     * The longest gossip may take, for {@code n} members with the preset used here, from a crash
     * until a survivor declares the node dead, as docs/operations-gossip.md derives it: the
     * crashed node is probed within {@code 2n - 3} probe intervals by one survivor, the failing
     * probe takes one more interval (health score 0), and then the suspicion timer runs
     * {@code suspicionMult * max(1, log10 n) * probeInterval} when no confirmations are expected
     * ({@code k = suspicionMult - 2} is set to 0 when {@code n - 2 < k}). Only valid for k = 0:
     * with confirmations expected the timer starts at the maximum, which this bound does not cover.
     */
    Duration detectionBound(int n) {
        GossipConfig g = GossipConfig.preset(preset, "bound");
        int k = g.suspicionMult() - 2;
        if (n - 2 < k) {
            k = 0;
        }
        if (k != 0) {
            throw new IllegalArgumentException(preset + " with " + n + " members expects " + k
                    + " suspicion confirmations: no fixed bound");
        }
        double nodeScale = Math.max(1.0, Math.log10(Math.max(1.0, n)));
        long scaleMillis = (long) (nodeScale * 1000);
        Duration suspicion = Duration.ofNanos(g.suspicionMult() * scaleMillis * g.probeInterval().toNanos() / 1000);
        return g.probeInterval().multipliedBy(2L * n - 3 + 1).plus(suspicion);
    }

    /** The earliest a survivor can declare a crashed node dead: one failing probe plus the suspicion minimum. */
    Duration earliestDetection(int n) {
        GossipConfig g = GossipConfig.preset(preset, "bound");
        return detectionBound(n).minus(g.probeInterval().multipliedBy(2L * n - 3));
    }

    @Override
    public void close() throws InterruptedException {
        for (ChildNode c : children) {
            c.close();
        }
    }
}
