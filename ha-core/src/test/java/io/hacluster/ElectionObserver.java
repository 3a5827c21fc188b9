package io.hacluster;

import io.hacluster.discovery.ConnectionSource;
import io.hacluster.election.LeaderInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the election of a {@link LeaseNodes} cluster from outside while a test injects faults:
 * <ul>
 *   <li>one <b>fenced writer</b> per rank: whenever its node {@code isLeader()}, it writes with the
 *       node's fencing token through the node's own database router, in the pattern that checks
 *       the lease row ({@code FOR SHARE}), and records every attempt and every accepted write with
 *       its commit order;</li>
 *   <li>a <b>leader sampler</b> reading every node's {@code isLeader()} and {@code leader()} in a
 *       tight pass every few milliseconds;</li>
 *   <li>a <b>lease sampler</b> reading the lease row directly from the database.</li>
 * </ul>
 * {@link #violations()} checks the invariants over everything recorded.
 */
final class ElectionObserver implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ElectionObserver.class);
    /** The lease table ({@code io.hacluster.election.LeaseStore.TABLE}). */
    static final String LEASE_TABLE = "ha_leader_lease";
    /** A leader pass slower than this (the sampler was descheduled) proves nothing about an instant. */
    static final long MAX_PASS_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long STOP_WAIT_MILLIS = 20_000;

    /**
     * One write attempt by a node that saw itself leading with {@code token}: accepted, refused
     * by the database (the fence), or {@code failed} with an error before the database decided
     * (a stalled server's connections are aborted by the router once it marks the server down).
     */
    record Attempt(long atNanos, String writer, long token, boolean accepted, long n, boolean leadingAfter,
                   boolean failed) {
    }

    /** One pass over all nodes: who said isLeader(), and what each reported as leader. */
    record LeaderSample(long atNanos, long passNanos, List<String> leading, Map<String, LeaderInfo> leaders) {
    }

    /** The lease row as the database reported it; holder null when released or expired. */
    record RowSample(long atNanos, String holder, long token, long epoch) {
    }

    private final LeaseNodes nodes;
    private final ConnectionSource direct;
    private final String table;
    private final long hardDeadline;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopped;
    final List<Attempt> attempts = new CopyOnWriteArrayList<>();
    final List<LeaderSample> leaderSamples = new CopyOnWriteArrayList<>();
    final List<RowSample> rowSamples = new CopyOnWriteArrayList<>();
    final List<String> errors = new CopyOnWriteArrayList<>();

    /**
     * @param direct connections to the lease's database that no fault touches (the test's own)
     * @param table the fenced table to create and write ({@code id = 1})
     * @param maxRun a hard bound on every thread's loop, whatever the test does
     */
    ElectionObserver(LeaseNodes nodes, ConnectionSource direct, String table, Duration maxRun) throws SQLException {
        this.nodes = nodes;
        this.direct = direct;
        this.table = table;
        this.hardDeadline = System.nanoTime() + maxRun.toNanos();
        try (Connection c = direct.open(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + table
                    + " (id INT PRIMARY KEY, writer TEXT, token BIGINT NOT NULL, n BIGINT NOT NULL)");
            s.execute("DELETE FROM " + table);
            s.execute("INSERT INTO " + table + " (id, writer, token, n) VALUES (1, NULL, 0, 0)");
        }
    }

    void start() {
        for (int r = 1; r <= nodes.size(); r++) {
            int rank = r;
            threads.add(daemon("fenced-writer-" + rank, () -> writeLoop(rank)));
        }
        threads.add(daemon("leader-sampler", this::sampleLeaders));
        threads.add(daemon("lease-sampler", this::sampleRows));
        threads.forEach(Thread::start);
    }

    private boolean running() {
        return !stopped && System.nanoTime() - hardDeadline < 0 && !Thread.currentThread().isInterrupted();
    }

    private void writeLoop(int rank) {
        String sql = "UPDATE " + table + " SET writer = ?, token = ?, n = n + 1 WHERE id = 1 AND EXISTS ("
                + "SELECT 1 FROM " + LEASE_TABLE + " WHERE cluster_name = ? AND holder_id = ? AND fencing_token = ? "
                + "AND expires_at > clock_timestamp() FOR SHARE) RETURNING n";
        while (running()) {
            ClusterNode node = nodes.node(rank);
            Optional<LeaderInfo> me = node == null || !node.isLeader() ? Optional.empty() : node.leader();
            if (me.isEmpty() || !me.get().id().equals(node.id())) {
                pause(10);
                continue;
            }
            long token = me.get().fencingToken();
            try (Connection c = node.database().orElseThrow().master();
                 PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, node.id());
                ps.setLong(2, token);
                ps.setString(3, nodes.cluster);
                ps.setString(4, node.id());
                ps.setLong(5, token);
                long n = -1;
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        n = rs.getLong(1);
                    }
                }
                boolean leadingAfter = node.isLeader()
                        && node.leader().map(l -> l.fencingToken() == token).orElse(false);
                attempts.add(new Attempt(System.nanoTime(), node.id(), token, n >= 0, n, leadingAfter, false));
            } catch (SQLException | RuntimeException e) {
                // a crashed node's router closes under its writer; a stalled one times out or is
                // aborted: not a write, but the attempt ended
                LOG.debug("fenced write of rank {} failed: {}", rank, e.toString());
                attempts.add(new Attempt(System.nanoTime(), node.id(), token, false, -1, false, true));
            }
            pause(15);
        }
    }

    private void sampleLeaders() {
        while (running()) {
            long t0 = System.nanoTime();
            List<String> leading = new ArrayList<>(2);
            Map<String, LeaderInfo> leaders = new HashMap<>();
            for (int r = 1; r <= nodes.size(); r++) {
                ClusterNode n = nodes.node(r);
                if (n == null) {
                    continue;
                }
                if (n.isLeader()) {
                    leading.add(n.id());
                }
                n.leader().ifPresent(l -> leaders.put(n.id(), l));
            }
            long t1 = System.nanoTime();
            leaderSamples.add(new LeaderSample(t0, t1 - t0, List.copyOf(leading), Map.copyOf(leaders)));
            pause(5);
        }
    }

    private void sampleRows() {
        String sql = "SELECT CASE WHEN holder_id IS NOT NULL AND expires_at > clock_timestamp() THEN holder_id END, "
                + "fencing_token, epoch FROM " + LEASE_TABLE + " WHERE cluster_name = ?";
        while (running()) {
            long t = System.nanoTime();
            try (Connection c = direct.open(); PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, nodes.cluster);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        rowSamples.add(new RowSample(t, rs.getString(1), rs.getLong(2), rs.getLong(3)));
                    }
                }
            } catch (SQLException e) {
                errors.add("lease sampler: " + e);
            }
            pause(20);
        }
    }

    /** Accepted writes in the database's commit order (the row's counter). */
    List<Attempt> acceptedInCommitOrder() {
        return attempts.stream().filter(Attempt::accepted).sorted(Comparator.comparingLong(Attempt::n)).toList();
    }

    /** Leader samples whose pass was fast enough to stand for one instant. */
    List<LeaderSample> validLeaderSamples() {
        return leaderSamples.stream().filter(s -> s.passNanos() <= MAX_PASS_NANOS).toList();
    }

    /**
     * Every invariant broken in what was recorded, described; empty when all hold:
     * <ol>
     *   <li>no accepted write carries a token below one accepted before it (commit order), and a
     *       token belongs to one writer only;</li>
     *   <li>no write was refused although its node led with that token before and after it (a
     *       node believing in a lease the database did not have);</li>
     *   <li>at no sampled instant did two nodes say {@code isLeader()};</li>
     *   <li>the lease row's token and epoch never go back, a token has one holder, and a new holder
     *       has a greater token;</li>
     *   <li>the epoch and the fencing token of each node's {@code leader()} never go back (also
     *       across a restart of that id).</li>
     * </ol>
     */
    List<String> violations() {
        List<String> out = new ArrayList<>(errors);
        Attempt prev = null;
        Map<Long, String> writerOfToken = new HashMap<>();
        for (Attempt a : acceptedInCommitOrder()) {
            if (prev != null && a.token() < prev.token()) {
                out.add("stale token accepted: write #" + a.n() + " by " + a.writer() + " with token " + a.token()
                        + " after write #" + prev.n() + " by " + prev.writer() + " with token " + prev.token());
            }
            String other = writerOfToken.putIfAbsent(a.token(), a.writer());
            if (other != null && !other.equals(a.writer())) {
                out.add("token " + a.token() + " accepted from " + other + " and " + a.writer());
            }
            prev = a;
        }
        for (Attempt a : attempts) {
            if (!a.accepted() && a.leadingAfter()) {
                out.add("write refused although " + a.writer() + " led with token " + a.token()
                        + " before and after it");
            }
        }
        for (LeaderSample s : validLeaderSamples()) {
            if (s.leading().size() > 1) {
                out.add("two leaders at one instant (pass of " + s.passNanos() / 1000 + " us): " + s.leading());
            }
        }
        RowSample last = null;
        Map<Long, String> holderOfToken = new HashMap<>();
        for (RowSample r : rowSamples) {
            if (last != null) {
                if (r.token() < last.token()) {
                    out.add("lease token went back: " + last + " -> " + r);
                }
                if (r.epoch() < last.epoch()) {
                    out.add("lease epoch went back: " + last + " -> " + r);
                }
            }
            if (r.holder() != null) {
                String h = holderOfToken.putIfAbsent(r.token(), r.holder());
                if (h != null && !h.equals(r.holder())) {
                    out.add("lease token " + r.token() + " held by " + h + " and by " + r.holder());
                }
            }
            last = r;
        }
        Map<String, LeaderInfo> lastSeen = new HashMap<>();
        for (LeaderSample s : leaderSamples) {
            for (Map.Entry<String, LeaderInfo> e : s.leaders().entrySet()) {
                LeaderInfo before = lastSeen.put(e.getKey(), e.getValue());
                if (before != null && e.getValue().epoch() < before.epoch()) {
                    out.add(e.getKey() + "'s leader epoch went back: " + before + " -> " + e.getValue());
                }
                if (before != null && e.getValue().fencingToken() < before.fencingToken()) {
                    out.add(e.getKey() + "'s leader token went back: " + before + " -> " + e.getValue());
                }
            }
        }
        return out;
    }

    /** Stops every thread and waits for them (bounded). */
    @Override
    public void close() {
        stopped = true;
        for (Thread t : threads) {
            try {
                t.join(STOP_WAIT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (t.isAlive()) {
                errors.add(t.getName() + " did not stop within " + STOP_WAIT_MILLIS + " ms");
            }
        }
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
