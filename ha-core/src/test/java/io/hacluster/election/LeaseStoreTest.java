package io.hacluster.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The lease's SQL against a real PostgreSQL server from the testkit. */
class LeaseStoreTest {

    private static final Duration LONG = Duration.ofSeconds(30);
    private static final Duration SHORT = Duration.ofSeconds(1);
    private static final AtomicInteger CLUSTERS = new AtomicInteger();

    private static PostgresTopology pg;
    private static LeaseStore store;

    @BeforeAll
    static void startPostgres() throws SQLException {
        pg = PostgresTopology.start(0);
        store = new LeaseStore(() -> pg.primary().connect());
        store.createSchemaIfMissing();
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    private static String cluster() {
        return "lease-test-" + CLUSTERS.incrementAndGet();
    }

    private static LeaseGrant granted(AcquireOutcome outcome) {
        assertThat(outcome).isInstanceOf(AcquireOutcome.Granted.class);
        return ((AcquireOutcome.Granted) outcome).grant();
    }

    private static AcquireOutcome.HeldByOther heldByOther(AcquireOutcome outcome) {
        assertThat(outcome).isInstanceOf(AcquireOutcome.HeldByOther.class);
        return (AcquireOutcome.HeldByOther) outcome;
    }

    private static void execute(String sql) throws SQLException {
        try (Connection c = pg.primary().connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Test
    void eightNodesAcquiringAtOneInstantGetExactlyOneGrantRoundAfterRound() throws Exception {
        int nodes = 8;
        int rounds = 20;
        ExecutorService pool = Executors.newFixedThreadPool(nodes);
        List<PinnedConnections> connections = new ArrayList<>();
        try {
            // Connections open before the barrier, so the statements themselves start together.
            List<LeaseStore> stores = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                PinnedConnections c = new PinnedConnections(List.of(pg.primary().connect()));
                connections.add(c);
                stores.add(new LeaseStore(c));
            }
            for (int round = 1; round <= rounds; round++) {
                String cluster = cluster();
                if (round % 2 == 0) {
                    // Even rounds race on an existing, released row (the UPDATE path); odd ones on
                    // a missing row (the INSERT path).
                    LeaseGrant seed = granted(store.acquire(cluster, "seed", 0, LONG));
                    assertThat(store.release(cluster, "seed", seed.fencingToken())).isTrue();
                }
                CyclicBarrier together = new CyclicBarrier(nodes);
                List<Future<AcquireOutcome>> attempts = new ArrayList<>();
                for (int i = 0; i < nodes; i++) {
                    LeaseStore s = stores.get(i);
                    String node = "node-" + i;
                    long epoch = round;
                    attempts.add(pool.submit(() -> {
                        together.await(30, TimeUnit.SECONDS);
                        return s.acquire(cluster, node, epoch, LONG);
                    }));
                }
                List<LeaseGrant> grants = new ArrayList<>();
                List<AcquireOutcome.HeldByOther> refusals = new ArrayList<>();
                for (Future<AcquireOutcome> attempt : attempts) {
                    AcquireOutcome outcome = attempt.get(60, TimeUnit.SECONDS);
                    if (outcome instanceof AcquireOutcome.Granted g) {
                        grants.add(g.grant());
                    } else {
                        refusals.add((AcquireOutcome.HeldByOther) outcome);
                    }
                }
                assertThat(grants).as("round %d: grants", round).hasSize(1);
                LeaseGrant winner = grants.get(0);
                assertThat(refusals).as("round %d: the others are told who holds it", round).hasSize(nodes - 1)
                        .allSatisfy(r -> {
                            assertThat(r.holderId()).isEqualTo(winner.holderId());
                            assertThat(r.fencingToken()).isEqualTo(winner.fencingToken());
                            assertThat(r.remainingMillis()).isPositive();
                        });
                LeaseRow row = store.read(cluster).orElseThrow();
                assertThat(row.holderId()).as("round %d", round).contains(winner.holderId());
                assertThat(row.fencingToken()).isEqualTo(winner.fencingToken());
                assertThat(row.held()).isTrue();
            }
        } finally {
            pool.shutdownNow();
            for (PinnedConnections c : connections) {
                c.close();
            }
        }
    }

    @Test
    void anotherNodeTakesTheLeaseOnlyAfterItExpiredInDatabaseTime() throws Exception {
        // A statement stalled for longer than the 1 s lease (a loaded machine) can only make the
        // first attempt come after the expiry; the scenario then runs again on a fresh row.
        boolean sawItHeld = false;
        for (int attempt = 0; attempt < 3 && !sawItHeld; attempt++) {
            String cluster = cluster();
            LeaseGrant a = granted(store.acquire(cluster, "node-a", 1, SHORT));
            assertThat(a.remainingMillis()).isBetween(1L, 1000L);
            List<AcquireOutcome> seen = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).pollDelay(Duration.ZERO)
                    .until(() -> {
                        AcquireOutcome o = store.acquire(cluster, "node-b", 1, LONG);
                        seen.add(o);
                        return o instanceof AcquireOutcome.Granted;
                    });
            LeaseGrant b = granted(seen.get(seen.size() - 1));
            // The only clocks compared are the database's: B's holding began once A's had expired.
            assertThat(b.acquiredAt()).isAfterOrEqualTo(a.expiresAt());
            assertThat(b.fencingToken()).isGreaterThan(a.fencingToken());
            List<AcquireOutcome> before = seen.subList(0, seen.size() - 1);
            assertThat(before).allSatisfy(o -> {
                AcquireOutcome.HeldByOther h = heldByOther(o);
                assertThat(h.holderId()).isEqualTo("node-a");
                assertThat(h.fencingToken()).isEqualTo(a.fencingToken());
                assertThat(h.remainingMillis()).isBetween(0L, 1000L);
            });
            sawItHeld = !before.isEmpty();
        }
        assertThat(sawItHeld).as("another node was refused while the lease was unexpired").isTrue();
    }

    @Test
    void tokensStrictlyIncreaseAcrossHoldersAndNeverResetWhileRenewalsKeepThem() throws Exception {
        String cluster = cluster();
        LeaseGrant a = granted(store.acquire(cluster, "node-a", 1, LONG));
        assertThat(store.renew(cluster, "node-a", a.fencingToken(), LONG)).isInstanceOf(RenewOutcome.Renewed.class);
        LeaseGrant again = granted(store.acquire(cluster, "node-a", 1, LONG));
        assertThat(again.fencingToken()).as("an acquire by the holder is a renewal").isEqualTo(a.fencingToken());
        assertThat(again.acquiredAt()).isEqualTo(a.acquiredAt());
        assertThat(store.read(cluster).orElseThrow().fencingToken()).isEqualTo(a.fencingToken());

        assertThat(store.release(cluster, "node-a", a.fencingToken())).isTrue();
        LeaseGrant b = granted(store.acquire(cluster, "node-b", 1, LONG));
        assertThat(b.fencingToken()).isGreaterThan(a.fencingToken());

        // A holder that comes back after its release gets a new token too.
        assertThat(store.release(cluster, "node-b", b.fencingToken())).isTrue();
        LeaseGrant a2 = granted(store.acquire(cluster, "node-a", 1, LONG));
        assertThat(a2.fencingToken()).isGreaterThan(b.fencingToken());

        execute("DELETE FROM " + LeaseStore.TABLE + " WHERE cluster_name = '" + cluster + "'");
        LeaseGrant c = granted(store.acquire(cluster, "node-c", 1, LONG));
        assertThat(c.fencingToken()).as("after the row was deleted").isGreaterThan(a2.fencingToken());

        // Not even dropping the table resets the sequence: it is not owned by the table.
        execute("DROP TABLE " + LeaseStore.TABLE);
        LeaseStore restarted = new LeaseStore(() -> pg.primary().connect());
        restarted.createSchemaIfMissing();
        LeaseGrant d = granted(restarted.acquire(cluster, "node-d", 1, LONG));
        assertThat(d.fencingToken()).as("after the table was dropped and created again")
                .isGreaterThan(c.fencingToken());
    }

    @Test
    void onlyTheHolderWithItsCurrentTokenRenewsAnUnexpiredLease() throws Exception {
        String cluster = cluster();
        LeaseGrant a = granted(store.acquire(cluster, "node-a", 1, LONG));
        assertThat(store.renew(cluster, "node-b", a.fencingToken(), LONG)).as("not the holder")
                .isInstanceOf(RenewOutcome.Lost.class);

        assertThat(store.release(cluster, "node-a", a.fencingToken())).isTrue();
        LeaseGrant a2 = granted(store.acquire(cluster, "node-a", 1, LONG));
        assertThat(store.renew(cluster, "node-a", a.fencingToken(), LONG)).as("a stale token")
                .isInstanceOf(RenewOutcome.Lost.class);
        RenewOutcome renewed = store.renew(cluster, "node-a", a2.fencingToken(), LONG);
        assertThat(renewed).isInstanceOf(RenewOutcome.Renewed.class);
        assertThat(((RenewOutcome.Renewed) renewed).remainingMillis()).isBetween(1L, LONG.toMillis());
    }

    @Test
    void anExpiredLeaseCannotBeRenewed() throws Exception {
        String cluster = cluster();
        LeaseGrant a = granted(store.acquire(cluster, "node-a", 1, SHORT));
        // The database decides when it expired; nothing here compares its clock with ours.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> !store.read(cluster).orElseThrow().held());
        LeaseRow expired = store.read(cluster).orElseThrow();
        assertThat(expired.holderId()).contains("node-a");
        assertThat(expired.remainingMillis()).isZero();
        assertThat(store.renew(cluster, "node-a", a.fencingToken(), LONG)).isInstanceOf(RenewOutcome.Lost.class);
    }

    @Test
    void aReleasedLeaseIsTakenAtOnceAndTheFormerHolderCannotRenewIt() throws Exception {
        String cluster = cluster();
        LeaseGrant a = granted(store.acquire(cluster, "node-a", 1, LONG));
        assertThat(heldByOther(store.acquire(cluster, "node-b", 1, LONG)).holderId()).isEqualTo("node-a");
        assertThat(store.release(cluster, "node-b", a.fencingToken())).as("only the holder releases").isFalse();
        assertThat(store.read(cluster).orElseThrow().held()).isTrue();

        assertThat(store.release(cluster, "node-a", a.fencingToken())).isTrue();
        LeaseRow released = store.read(cluster).orElseThrow();
        assertThat(released.holderId()).isEmpty();
        assertThat(released.held()).isFalse();
        assertThat(released.fencingToken()).as("the last token stays for fenced writes").isEqualTo(a.fencingToken());

        // 30 s were left on A's lease: B does not wait for them.
        LeaseGrant b = granted(store.acquire(cluster, "node-b", 1, LONG));
        assertThat(b.fencingToken()).isGreaterThan(a.fencingToken());
        assertThat(store.renew(cluster, "node-a", a.fencingToken(), LONG)).isInstanceOf(RenewOutcome.Lost.class);
        assertThat(store.release(cluster, "node-a", a.fencingToken())).isFalse();
        assertThat(store.read(cluster).orElseThrow().holderId()).contains("node-b");
    }

    @Test
    void theStoredEpochOnlyGrowsAndSurvivesARestart() throws Exception {
        String cluster = cluster();
        assertThat(store.highestEpoch(cluster)).as("no row yet").isZero();
        LeaseGrant a = granted(store.acquire(cluster, "node-a", 5, LONG));
        assertThat(a.epoch()).isEqualTo(5);
        // A candidate's higher epoch is kept even though it is refused: the row is the high-water mark.
        assertThat(heldByOther(store.acquire(cluster, "node-b", 7, LONG)).epoch()).isEqualTo(7);
        assertThat(granted(store.acquire(cluster, "node-a", 3, LONG)).epoch()).as("a lower epoch does not lower it")
                .isEqualTo(7);
        assertThat(store.release(cluster, "node-a", a.fencingToken())).isTrue();
        assertThat(granted(store.acquire(cluster, "node-c", 6, LONG)).epoch()).isEqualTo(7);
        assertThat(store.read(cluster).orElseThrow().epoch()).isEqualTo(7);

        LeaseStore restarted = new LeaseStore(() -> pg.primary().connect());
        restarted.createSchemaIfMissing();
        assertThat(restarted.highestEpoch(cluster)).isEqualTo(7);
        assertThat(granted(restarted.acquire(cluster, "node-c", 8, LONG)).epoch()).isEqualTo(8);
        assertThat(restarted.highestEpoch(cluster)).isEqualTo(8);
    }

    @Test
    void theLeaseIsNotTiedToTheSessionThatTookIt() throws Exception {
        String cluster = cluster();
        try (PinnedConnections one = new PinnedConnections(List.of(pg.primary().connect()))) {
            int pid = one.backendPid(0);
            LeaseGrant a = granted(new LeaseStore(one).acquire(cluster, "node-a", 1, LONG));
            try (Connection su = pg.primary().connectAsSuperuser();
                 PreparedStatement ps = su.prepareStatement("SELECT pg_terminate_backend(?, 10000)")) {
                ps.setInt(1, pid);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getBoolean(1)).as("backend %d terminated", pid).isTrue();
                }
            }
            assertThatThrownBy(() -> new LeaseStore(one).read(cluster)).isInstanceOf(SQLException.class);

            LeaseRow row = store.read(cluster).orElseThrow();
            assertThat(row.held()).isTrue();
            assertThat(row.holderId()).contains("node-a");
            assertThat(heldByOther(store.acquire(cluster, "node-b", 1, LONG)).holderId()).isEqualTo("node-a");
            assertThat(store.renew(cluster, "node-a", a.fencingToken(), LONG)).isInstanceOf(RenewOutcome.Renewed.class);
        }
    }

    @Test
    void consecutiveOperationsOnDifferentBackendsAsBehindATransactionPooler() throws Exception {
        String cluster = cluster();
        try (PinnedConnections pooled = new PinnedConnections(List.of(pg.primary().connect(), pg.primary().connect()))) {
            assertThat(pooled.backendPid(0)).isNotEqualTo(pooled.backendPid(1));
            LeaseStore a = new LeaseStore(pooled);
            LeaseStore b = new LeaseStore(pooled);
            // Each operation takes the next backend: acquire on one, renew on the other, and so on.
            LeaseGrant grant = granted(a.acquire(cluster, "node-a", 1, LONG));
            assertThat(a.renew(cluster, "node-a", grant.fencingToken(), LONG)).isInstanceOf(RenewOutcome.Renewed.class);
            assertThat(heldByOther(b.acquire(cluster, "node-b", 1, LONG)).holderId()).isEqualTo("node-a");
            assertThat(a.renew(cluster, "node-a", grant.fencingToken(), LONG)).isInstanceOf(RenewOutcome.Renewed.class);
            assertThat(a.release(cluster, "node-a", grant.fencingToken())).isTrue();
            assertThat(granted(b.acquire(cluster, "node-b", 1, LONG)).fencingToken())
                    .isGreaterThan(grant.fencingToken());
        }
    }

    @Test
    void aStatementStuckBehindARowLockFailsAfterTheStatementTimeout() throws Exception {
        String cluster = cluster();
        LeaseGrant a = granted(store.acquire(cluster, "node-a", 1, LONG));
        LeaseStore bounded = new LeaseStore(() -> pg.primary().connect(), Duration.ofSeconds(1));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection locker = pg.primary().connect()) {
            locker.setAutoCommit(false);
            try (PreparedStatement ps = locker.prepareStatement(
                    "SELECT 1 FROM " + LeaseStore.TABLE + " WHERE cluster_name = ? FOR UPDATE")) {
                ps.setString(1, cluster);
                ps.executeQuery().close();
            }
            Future<RenewOutcome> renew = pool.submit(() -> bounded.renew(cluster, "node-a", a.fencingToken(), LONG));
            assertThatThrownBy(() -> renew.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"))
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(pg.primary().password()));
            locker.rollback();
        } finally {
            pool.shutdownNow();
        }
        assertThat(bounded.renew(cluster, "node-a", a.fencingToken(), LONG)).isInstanceOf(RenewOutcome.Renewed.class);
    }

    @Test
    void refusesAConnectionInsideATransaction() throws Exception {
        try (Connection c = pg.primary().connect()) {
            c.setAutoCommit(false);
            LeaseStore inTransaction = new LeaseStore(new PinnedConnections(List.of(c)));
            assertThatThrownBy(() -> inTransaction.read(cluster())).isInstanceOf(IllegalStateException.class);
            c.rollback();
        }
    }
}
