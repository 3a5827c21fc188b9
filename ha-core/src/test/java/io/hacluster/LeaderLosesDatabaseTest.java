package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.config.JobSettings;
import io.hacluster.config.SqlSettings;
import io.hacluster.election.LeaderChange;
import io.hacluster.election.LeaderInfo;
import io.hacluster.election.LeaseSettings;
import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9: the leader loses its lease database, three ways, five trials each, with three in-JVM
 * nodes sharing a real PostgreSQL server: (a) the primary stalls (every process of it stopped
 * with SIGSTOP, so statements and connection attempts hang rather than fail), (b) the leader alone
 * is cut off (its backends terminated with {@code pg_terminate_backend} and its new connections
 * refused) while the others can still reach the database, (c) the primary is stopped and started
 * again.
 *
 * <p>In every trial, from a sampler that reads every node's {@code isLeader()} every 2 ms:
 * <ul>
 *   <li>the leader's deadline is known from outside: the renew deadline after the opening of the
 *       connection of its last statement that succeeded (the holder reads its clock before it
 *       opens the connection), which is within the renew deadline of the fault. Exact whatever the
 *       scheduling: its last {@code true} sample was taken before that deadline, and
 *       {@code isLeader()} read at or after it is false. And it was seen false (by the sampler or
 *       that read, whichever came first) strictly before the lease could expire in the database,
 *       the lease duration after that opening;</li>
 *   <li>in (a) and (c), where no node can reach the database, no node said {@code true} from the
 *       fault until the database was back; in every trial no two nodes said {@code true} in one
 *       sampling round;</li>
 *   <li>once the database is back: exactly one leader, the lowest id, holding the lease in the
 *       database with a token above the old one (the lease expired during the fault).</li>
 * </ul>
 */
class LeaderLosesDatabaseTest {


    /** Valid for LeaseSettings (0.3 s < 2 s < 3 s); the holder has 1 s between its deadline and the expiry. */
    static final LeaseSettings LEASE = new LeaseSettings(Duration.ofSeconds(3), Duration.ofSeconds(2),
            Duration.ofMillis(300));
    private static final int TRIALS = 5;
    /** How long a fault lasts past the moment it was in place: past the lease, so it surely expired. */
    private static final Duration HOLD = LEASE.leaseDuration().plusMillis(500);
    private static final Duration WAIT = Duration.ofSeconds(45);

    private static PostgresTopology pg;

    @TempDir
    Path dir;
    private final List<ClusterNode> nodes = new ArrayList<>();
    private final List<TrackedLeaseConnections> leaseDbs = new ArrayList<>();
    private String cluster;

    /** One fault: in place when {@code inject} returns, gone when {@code heal} returns. */
    private interface Fault {
        void inject() throws Exception;

        void heal() throws Exception;
    }

    /** What one trial measured, for the log and the failure messages. */
    private record Trial(String fault, int number, long flipSeenMillis, long lastTrueMillis, long lastOkMillis,
                         long deadlineMillis,
                         long toldMillis, long oldToken, long newToken, boolean anotherLed) {
    }

    @BeforeAll
    static void startPostgres() {
        pg = PostgresTopology.start(0);
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @AfterEach
    void closeAll() {
        PostgresServer primary = pg.primary();
        primary.resume();
        if (!primary.isRunning()) {
            primary.start();
        }
        leaseDbs.forEach(TrackedLeaseConnections::restore);
        nodes.forEach(ClusterNode::close);
    }

    private ClusterNode start(int rank) throws IOException {
        Path idFile = dir.resolve("rank-" + rank + ".id");
        Files.writeString(idFile, ElectionNodes.idOf(rank) + "\n");
        String seed = nodes.isEmpty() ? null : "127.0.0.1:" + nodes.get(0).gossipAddress().getPort();
        TrackedLeaseConnections leaseDb = new TrackedLeaseConnections(pg.primary(), "trial-" + rank + "-lease");
        SqlSettings sql = SqlSettings.builder().dataSource(pg.primary().dsn() + "&application_name=trial-" + rank)
                .maxOpenConns(4).maxIdleConns(2).build();
        ClusterNode n = ClusterNode.builder()
                .clusterSettings(TestNodes.settings(cluster, seed == null ? List.of() : List.of(seed))
                        .nodeIdFile(idFile.toString()).gossipPreset("lan").build())
                .sqlSettings(sql)
                .jobSettings(JobSettings.defaults())
                .leaseSettings(LEASE)
                .leaseConnections(leaseDb)
                .joinTimeout(Duration.ofSeconds(10))
                .leaveTimeout(Duration.ofSeconds(3))
                .build();
        n.start();
        nodes.add(n);
        leaseDbs.add(leaseDb);
        return n;
    }

    private void startCluster() throws IOException {
        cluster = TestNodes.clusterName();
        for (int rank = 1; rank <= 3; rank++) {
            start(rank);
        }
    }

    /** The lease row's holder (null once released or expired) and token, decided by the database. */
    private record Row(String holder, long token) {
    }

    private Row row() throws SQLException {
        try (Connection c = pg.primary().connect(); PreparedStatement st = c.prepareStatement(
                "SELECT CASE WHEN holder_id IS NOT NULL AND expires_at > clock_timestamp() THEN holder_id END, "
                        + "fencing_token FROM ha_leader_lease WHERE cluster_name = ?")) {
            st.setString(1, cluster);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? new Row(rs.getString(1), rs.getLong(2)) : null;
            }
        }
    }

    /** Exactly the lowest id leads, every node shows it with the same token, and the database agrees. */
    private boolean settledOnTheLowest() throws SQLException {
        ClusterNode lowest = nodes.get(0);
        Optional<LeaderInfo> leader = lowest.leader();
        if (leader.isEmpty() || !lowest.isLeader() || !leader.get().id().equals(lowest.id())) {
            return false;
        }
        for (ClusterNode n : nodes.subList(1, nodes.size())) {
            if (n.isLeader() || !n.leader().equals(leader)) {
                return false;
            }
        }
        Row row = row();
        return row != null && lowest.id().equals(row.holder()) && row.token() == leader.get().fencingToken();
    }

    private String views() {
        StringBuilder out = new StringBuilder();
        for (ClusterNode n : nodes) {
            out.append("\n  ").append(n.id()).append(": leader ").append(n.leader().orElse(null))
                    .append(", isLeader ").append(n.isLeader());
        }
        return out.toString();
    }

    @Test
    void thePrimaryStalled() throws Exception {
        PostgresServer primary = pg.primary();
        runTrials("stalled", true, new Fault() {
            @Override
            public void inject() {
                primary.pause();
            }

            @Override
            public void heal() {
                primary.resume();
            }
        });
    }

    @Test
    void theLeadersBackendsAreTerminatedAndItsConnectionsFail() throws Exception {
        runTrials("cut off", false, new Fault() {
            @Override
            public void inject() throws SQLException {
                TrackedLeaseConnections leaderDb = leaseDbs.get(0);
                leaderDb.cut();
                // the leader's router connections (discovery) and any lease connection in flight
                try (Connection su = pg.primary().connectAsSuperuser(); PreparedStatement st = su.prepareStatement(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                + "WHERE application_name IN (?, ?)")) {
                    st.setString(1, "trial-1");
                    st.setString(2, leaderDb.applicationName());
                    st.executeQuery().close();
                }
            }

            @Override
            public void heal() {
                leaseDbs.get(0).restore();
            }
        });
    }

    @Test
    void thePrimaryStoppedAndStartedAgain() throws Exception {
        PostgresServer primary = pg.primary();
        runTrials("restarted", true, new Fault() {
            @Override
            public void inject() {
                primary.stop();
            }

            @Override
            public void heal() {
                primary.start();
            }
        });
    }

    private void runTrials(String name, boolean nobodyReachesTheDatabase, Fault fault) throws Exception {
        startCluster();
        ClusterNode leader = nodes.get(0);
        TrackedLeaseConnections leaderDb = leaseDbs.get(0);
        List<long[]> told = new CopyOnWriteArrayList<>();  // nanoTime of each "this node no longer leads"
        leader.onLeaderChange((LeaderChange c) -> {
            if (!c.local() && c.cause().equals("lease lost")) {
                told.add(new long[] {System.nanoTime()});
            }
        });
        List<Trial> trials = new ArrayList<>();
        try (LeadershipSampler sampler = new LeadershipSampler(nodes)) {
            for (int trial = 1; trial <= TRIALS; trial++) {
                await("settled before trial " + trial).atMost(WAIT).pollInterval(Duration.ofMillis(50))
                        .until(this::settledOnTheLowest);
                long oldToken = leader.leader().orElseThrow().fencingToken();
                int toldBefore = told.size();
                int changesBefore = sampler.changes().size();

                long stallStart = System.nanoTime();
                fault.inject();
                long injected = System.nanoTime();
                // No statement the leader opens from here on succeeds, so its deadline is known from outside:
                // at most the renew deadline after the opening of its last successful statement's connection.
                // A statement opened before the fault may still report success a moment later (its answer
                // was on the way): the success is recorded before the holder extends its deadline, so a
                // read of isLeader() is judged only if no success was recorded around it.
                long deadline;
                boolean leadingAtDeadline;
                long readAt;
                while (true) {  // bounded: every deadline is at most the renew deadline past the fault
                    long ok = leaderDb.lastSuccessOpenedAt();
                    deadline = ok + LEASE.renewDeadline().toNanos();
                    long left = deadline - System.nanoTime();
                    if (left > 0) {
                        LockSupport.parkNanos(Math.min(left, 5_000_000));
                        continue;
                    }
                    leadingAtDeadline = leader.isLeader();  // read at or after the deadline: must be false
                    readAt = System.nanoTime();
                    if (leaderDb.lastSuccessOpenedAt() == ok) {
                        break;
                    }
                }
                long holdUntil = injected + HOLD.toNanos();
                while (System.nanoTime() - holdUntil < 0) {  // bounded: HOLD
                    TimeUnit.MILLISECONDS.sleep(20);
                }
                long lastOk = leaderDb.lastSuccessOpenedAt();
                long healStart = System.nanoTime();
                fault.heal();

                await(name + " " + trial + ": one leader again once the database is back").atMost(WAIT)
                        .pollInterval(Duration.ofMillis(50)).until(this::settledOnTheLowest);
                long newToken = leader.leader().orElseThrow().fencingToken();

                List<LeadershipSampler.Change> during = sampler.changes().subList(changesBefore, sampler.changes().size())
                        .stream().filter(c -> c.at() - stallStart >= 0 && c.at() - healStart <= 0).toList();
                LeadershipSampler.Change flip = during.stream().filter(c -> c.node() == 0 && !c.leading())
                        .findFirst().orElseThrow(() -> new AssertionError("no flip of the leader sampled: " + during));
                long toldAt = told.size() > toldBefore ? told.get(toldBefore)[0] : Long.MIN_VALUE;
                Trial t = new Trial(name, trial, millis(flip.at() - stallStart), millis(flip.previousAt() - stallStart),
                        millis(lastOk - stallStart), millis(deadline - stallStart), toldAt == Long.MIN_VALUE ? -1 : millis(toldAt - stallStart),
                        oldToken, newToken, during.stream().anyMatch(c -> c.node() != 0 && c.leading()));
                trials.add(t);
                TrialReport.append("TRIAL " + t);

                assertThat(lastOk).as("%s: nothing of the leader's succeeded once the fault was in place", t)
                        .isLessThan(injected)
                        .isEqualTo(deadline - LEASE.renewDeadline().toNanos());
                // exact, whatever the scheduling: a true answer read at t means t was before the holder's deadline
                assertThat(flip.previousAt()).as("%s: last true before the renew deadline from the last success", t)
                        .isLessThan(deadline);
                assertThat(leadingAtDeadline).as("%s: isLeader() read at or after the deadline", t).isFalse();
                assertThat(deadline).as("%s: that deadline is within the renew deadline of the fault", t)
                        .isLessThan(injected + LEASE.renewDeadline().toNanos())
                        .isLessThan(stallStart + LEASE.leaseDuration().toNanos());
                // observed: the earlier of the sampler's first false and the read at the deadline
                assertThat(Math.min(flip.at(), readAt))
                        .as("%s: seen false strictly before the lease could expire in the database", t)
                        .isLessThan(lastOk + LEASE.leaseDuration().toNanos());
                if (nobodyReachesTheDatabase) {
                    assertThat(during.stream().filter(LeadershipSampler.Change::leading).toList())
                            .as("%s: no node leads while none can reach the database", t).isEmpty();
                } else {
                    assertThat(during.stream().filter(c -> c.node() == 0 && c.leading()).toList())
                            .as("%s: the cut-off leader does not lead again while cut off", t).isEmpty();
                }
                assertThat(newToken).as("%s: the lease expired meanwhile, so it was taken with a newer token", t)
                        .isGreaterThan(oldToken);
                assertThat(told.size()).as("%s: the leader's listeners were told it lost its lease", t)
                        .isGreaterThan(toldBefore);
            }
            assertThat(sampler.overlaps()).as("rounds in which two nodes led" + views()).isEmpty();
            assertThat(sampler.rounds()).isPositive();
        }
        TrialReport.append("TRIALS " + name + ": flip seen after " + trials.stream().map(Trial::flipSeenMillis).toList()
                + " ms of the fault start; renew deadline " + LEASE.renewDeadline().toMillis() + " ms, lease "
                + LEASE.leaseDuration().toMillis() + " ms");
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
