package io.hacluster.db;

import static io.hacluster.db.Pg.count;
import static io.hacluster.db.Pg.dsn;
import static io.hacluster.db.Pg.exec;
import static io.hacluster.db.Pg.port;
import static io.hacluster.db.Pg.settings;
import static io.hacluster.db.Pg.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import io.hacluster.testkit.PostgresTopologyTest;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Routing on a real primary with two streaming replicas; every test leaves the topology as it found it. */
@PostgresTopologyTest(replicas = 2)
class RoutingTest {

    private static PostgresServer primary;
    private static PostgresServer replica1;
    private static PostgresServer replica2;

    @BeforeAll
    static void schema(PostgresTopology pg) throws SQLException {
        primary = pg.primary();
        replica1 = pg.replicas().get(0);
        replica2 = pg.replicas().get(1);
        try (Connection c = primary.connect()) {
            exec(c, "CREATE TABLE IF NOT EXISTS ryw (id bigint PRIMARY KEY, body text)");
            exec(c, "CREATE TABLE IF NOT EXISTS filler (body text)");
        }
        pg.awaitReplay(Duration.ofSeconds(30));
    }

    @Test
    void readsSpreadOverBothReplicasAndWritesGoToTheMaster(PostgresTopology pg) throws Exception {
        try (DatabaseRouter router = DatabaseRouter.start(settings(pg).build())) {
            Map<Integer, Integer> hits = new HashMap<>();
            for (int i = 0; i < 40; i++) {
                try (Connection c = router.replica()) {
                    hits.merge(port(c), 1, Integer::sum);
                }
            }
            assertThat(hits.keySet()).containsExactlyInAnyOrder(replica1.port(), replica2.port());
            assertThat(hits.values()).allSatisfy(n -> assertThat(n).isEqualTo(20));
            try (Connection c = router.master()) {
                assertThat(port(c)).isEqualTo(primary.port());
            }
            Set<Integer> readHelperPorts = new TreeSet<>();
            for (int i = 0; i < 4; i++) {
                readHelperPorts.add(router.read(Pg::port));
            }
            assertThat(readHelperPorts).containsExactlyInAnyOrder(replica1.port(), replica2.port());
        }
    }

    @Test
    void searchGoesToSearchReplicasElseReplicasElseMaster(PostgresTopology pg) throws Exception {
        RouterSettings split = settings(pg).replicas(List.of(dsn(replica1))).searchReplicas(List.of(dsn(replica2))).build();
        try (DatabaseRouter router = DatabaseRouter.start(split)) {
            for (int i = 0; i < 6; i++) {
                try (Connection c = router.searchReplica()) {
                    assertThat(port(c)).isEqualTo(replica2.port());
                }
                try (Connection c = router.replica()) {
                    assertThat(port(c)).isEqualTo(replica1.port());
                }
            }
            router.lockToMaster(true);
            try (Connection c = router.searchReplica(); Connection r = router.replica()) {
                assertThat(port(c)).isEqualTo(primary.port());
                assertThat(port(r)).isEqualTo(primary.port());
            }
        }
        // Search replica unreachable: search reads fall back to the replicas.
        Dsn dead = deadServer();
        RouterSettings deadSearch = settings(pg).replicas(List.of(dsn(replica1))).searchReplicas(List.of(dead)).build();
        try (DatabaseRouter router = DatabaseRouter.start(deadSearch)) {
            try (Connection c = router.searchReplica()) {
                assertThat(port(c)).isEqualTo(replica1.port());
            }
            assertThat(router.metrics().searchFallbacks()).isEqualTo(1);
        }
        // Nothing but a master: everything reads from it, and that is not a fallback.
        try (DatabaseRouter router = DatabaseRouter.start(settings(pg).replicas(List.of()).build())) {
            try (Connection c = router.searchReplica()) {
                assertThat(port(c)).isEqualTo(primary.port());
            }
            assertThat(router.metrics().replicaFallbacks()).isZero();
        }
    }

    @Test
    void queryTimeoutAppliesToEveryStatementOnEveryPool(PostgresTopology pg) throws Exception {
        try (DatabaseRouter router = DatabaseRouter.start(settings(pg).queryTimeoutSeconds(1).build())) {
            for (Connection c : List.of(router.master(), router.replica(), router.replica())) {
                try (c) {
                    assertThat(Pg.count(c, "SELECT extract(epoch FROM current_setting('statement_timeout')::interval)"))
                            .isEqualTo(1);
                    // RESET ALL returns to the startup value, not to the server default of "no timeout".
                    exec(c, "RESET ALL");
                    assertThatThrownBy(() -> exec(c, "SELECT pg_sleep(5)"))
                            .isInstanceOf(SQLException.class)
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
                }
            }
        }
    }

    @Test
    void roleChecksKeepWritesOffStandbysAndReadsOffThePrimary(PostgresTopology pg) throws Exception {
        // A standby as master: refused at start, with a masked DSN in the message.
        RouterSettings standbyMaster = settings(pg).master(dsn(replica1)).build();
        assertThatThrownBy(() -> DatabaseRouter.start(standbyMaster))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("in recovery")
                .hasMessageContaining(":****@127.0.0.1:" + replica1.port())
                .hasMessageNotContaining(replica1.password());
        // The primary listed as a replica: never in rotation, never handed out for reads.
        RouterSettings primaryAsReplica = settings(pg).replicas(List.of(dsn(primary), dsn(replica1))).build();
        try (DatabaseRouter router = DatabaseRouter.start(primaryAsReplica)) {
            assertThat(router.servers().get(1).state()).isEqualTo(ServerState.WRONG_ROLE);
            for (int i = 0; i < 10; i++) {
                try (Connection c = router.replica()) {
                    assertThat(port(c)).isEqualTo(replica1.port());
                }
            }
        }
    }

    @Test
    void badConfigurationAtStart(PostgresTopology pg) throws Exception {
        Dsn dead = deadServer();
        RouterSettings deadReplica = settings(pg).replicas(List.of(dead, dsn(replica1))).build();
        try (DatabaseRouter router = DatabaseRouter.start(deadReplica)) {
            assertThat(router.servers().get(1).state()).isEqualTo(ServerState.DOWN);
            assertThat(router.servers().get(2).state()).isEqualTo(ServerState.HEALTHY);
            for (int i = 0; i < 4; i++) {
                assertThat(router.read(Pg::port)).isEqualTo(replica1.port());
            }
        }
        RouterSettings deadMaster = settings(pg).master(dead).build();
        assertThatThrownBy(() -> DatabaseRouter.start(deadMaster))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("master " + dead.masked() + " is unreachable")
                .hasMessageNotContaining("nobody-knows");
    }

    @Test
    void readYourWritesEvenWhileEveryReplicaIsPaused(PostgresTopology pg) throws Exception {
        try (DatabaseRouter router = DatabaseRouter.start(settings(pg).build())) {
            // Replicas streaming: a token read always sees its row, wherever it runs.
            for (int i = 1; i <= 40; i++) {
                int id = i;
                ConsistencyToken token = insert(router, id);
                ConsistencyToken roundTripped = ConsistencyToken.parse(token.asString());
                String got = router.read(roundTripped, c -> body(c, roundTripped, id));
                assertThat(got).isEqualTo("row" + id);
            }
            pg.pauseReplay(replica1);
            pg.pauseReplay(replica2);
            try {
                long fallbacksBefore = router.metrics().tokenFallbacks();
                for (int i = 41; i <= 60; i++) {
                    int id = i;
                    ConsistencyToken token = insert(router, id);
                    int[] servedBy = new int[1];
                    String got = router.read(token, c -> {
                        servedBy[0] = port(c);
                        return body(c, token, id);
                    });
                    assertThat(got).isEqualTo("row" + id);
                    assertThat(servedBy[0]).isEqualTo(primary.port());
                }
                assertThat(router.metrics().tokenFallbacks()).isGreaterThanOrEqualTo(fallbacksBefore + 20);
            } finally {
                pg.resumeReplay(replica1);
                pg.resumeReplay(replica2);
            }
            ConsistencyToken last = router.consistencyToken();
            pg.awaitReplay(Duration.ofSeconds(30));
            // Once replayed, the token is served by a replica again.
            try (Connection c = router.replica(last)) {
                assertThat(port(c)).isIn(replica1.port(), replica2.port());
            }
        }
    }

    private static ConsistencyToken insert(DatabaseRouter router, int id) throws SQLException {
        try (Connection c = router.master();
             PreparedStatement ps = c.prepareStatement("INSERT INTO ryw (id, body) VALUES (?, ?)")) {
            ps.setLong(1, id);
            ps.setString(2, "row" + id);
            ps.executeUpdate();
            return DatabaseRouter.consistencyToken(c);
        }
    }

    private static String body(Connection c, ConsistencyToken token, int id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT body FROM ryw WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new AssertionError("row " + id + " missing on port " + port(c) + " for token " + token);
                }
                return rs.getString(1);
            }
        }
    }

    @Test
    void pausedReplicaLeavesRotationOverTheLagLimitAndReturns(PostgresTopology pg) throws Exception {
        RouterSettings s = settings(pg).maxLagBytes(256 * 1024).maxLagMillis(0).build();
        try (DatabaseRouter router = DatabaseRouter.start(s)) {
            pg.pauseReplay(replica1);
            try {
                // About 2 MB of WAL, well over the 256 kB limit.
                try (Connection c = router.master()) {
                    exec(c, "INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 2000)");
                }
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                        assertThat(status(router, replica1).state()).isEqualTo(ServerState.LAGGING));
                assertThat(status(router, replica1).lagBytes()).isGreaterThan(256 * 1024);
                assertThat(status(router, replica2).state()).isEqualTo(ServerState.HEALTHY);
                for (int i = 0; i < 10; i++) {
                    try (Connection c = router.replica()) {
                        assertThat(port(c)).isEqualTo(replica2.port());
                    }
                }
            } finally {
                pg.resumeReplay(replica1);
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(status(router, replica1).state()).isEqualTo(ServerState.HEALTHY));
            Set<Integer> ports = new TreeSet<>();
            for (int i = 0; i < 4; i++) {
                try (Connection c = router.replica()) {
                    ports.add(port(c));
                }
            }
            assertThat(ports).containsExactlyInAnyOrder(replica1.port(), replica2.port());
        }
    }

    @Test
    void timeLagLimitAlsoTakesAPausedReplicaOut(PostgresTopology pg) throws Exception {
        RouterSettings s = settings(pg).maxLagBytes(0).maxLagMillis(2_000).build();
        try (DatabaseRouter router = DatabaseRouter.start(s)) {
            // An idle primary must not make caught-up replicas look late: let a few ticks pass.
            Thread.sleep(3_000);
            assertThat(status(router, replica2).state()).isEqualTo(ServerState.HEALTHY);
            pg.pauseReplay(replica2);
            try {
                try (Connection c = router.master()) {
                    exec(c, "INSERT INTO filler VALUES ('one small write')");
                }
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                        assertThat(status(router, replica2).state()).isEqualTo(ServerState.LAGGING));
                assertThat(status(router, replica1).state()).isEqualTo(ServerState.HEALTHY);
            } finally {
                pg.resumeReplay(replica2);
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(status(router, replica2).state()).isEqualTo(ServerState.HEALTHY));
        }
    }

    @Test
    void routingDataSourceBindsOnFirstStatement(PostgresTopology pg) throws Exception {
        try (DatabaseRouter router = DatabaseRouter.start(settings(pg).build())) {
            RoutingDataSource ds = router.dataSource();
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                c.setReadOnly(true);
                // Nothing borrowed yet.
                assertThat(router.metrics().pools()).allSatisfy(p -> assertThat(p.active()).isZero());
                assertThat(port(c)).isIn(replica1.port(), replica2.port());
                c.commit();
            }
            try (Connection c = ds.getConnection()) {
                assertThat(port(c)).isEqualTo(primary.port());
            }
            int inScope = router.readOnly(() -> {
                try (Connection c = ds.getConnection()) {
                    return port(c);
                }
            });
            assertThat(inScope).isIn(replica1.port(), replica2.port());
            // Opened, configured, committed and closed without a statement: never touches a server.
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                c.commit();
                c.rollback();
            }
            assertThat(router.metrics().pools()).allSatisfy(p -> assertThat(p.active()).isZero());
        }
    }

    @Test
    void readOnlyErrorOnTheMasterEvictsTheConnection(PostgresTopology pg) throws Exception {
        try (DatabaseRouter router = DatabaseRouter.start(settings(pg).build())) {
            long before = router.metrics().evictions();
            Connection c = router.master();
            try {
                exec(c, "SET default_transaction_read_only = on");
                assertThatThrownBy(() -> exec(c, "INSERT INTO filler VALUES ('x')"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25006"));
                assertThat(c.isClosed()).as("evicted by the router's exception override").isTrue();
            } finally {
                c.close();
            }
            assertThat(router.metrics().evictions()).isEqualTo(before + 1);
            // The re-check finds a real primary: the master stays healthy and writable.
            try (Connection w = router.master()) {
                exec(w, "INSERT INTO filler VALUES ('after')");
            }
            assertThat(router.servers().get(0).state()).isEqualTo(ServerState.HEALTHY);
        }
    }

    @Test
    void recycleAndReloadReplaceConnectionsWithoutBreakingBorrowedOnes(PostgresTopology pg) throws Exception {
        try (DatabaseRouter router = DatabaseRouter.start(settings(pg).build())) {
            int firstPid;
            try (Connection c = router.master()) {
                firstPid = (int) count(c, "SELECT pg_backend_pid()");
            }
            router.recycleConnections();
            try (Connection c = router.master()) {
                assertThat(count(c, "SELECT pg_backend_pid()")).isNotEqualTo(firstPid);
            }
            Connection inFlight = router.master();
            long inFlightPid = count(inFlight, "SELECT pg_backend_pid()");
            router.reload(router.settings().toBuilder().maxOpenConns(3).build());
            try (Connection c = router.master()) {
                assertThat(count(c, "SELECT pg_backend_pid()")).isNotEqualTo(inFlightPid);
            }
            // The old pool waits for its borrowed connection...
            exec(inFlight, "INSERT INTO filler VALUES ('still works after reload')");
            inFlight.close();
            // ...and closes once it is back.
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                try (Connection su = primary.connectAsSuperuser()) {
                    assertThat(count(su, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + inFlightPid)).isZero();
                }
            });
            assertThat(router.settings().maxOpenConns()).isEqualTo(3);
        }
    }

    @Test
    void metricsSnapshot(PostgresTopology pg) throws Exception {
        try (DatabaseRouter router = DatabaseRouter.start(settings(pg).build())) {
            try (Connection held = router.master()) {
                RouterMetrics m = router.metrics();
                assertThat(m.pools()).hasSize(3);
                assertThat(m.pools().get(0).pool()).isEqualTo("ha-test-db-master[" + dsn(primary).label() + "]")
                        .doesNotContain(primary.password());
                assertThat(m.pools().get(0).active()).isEqualTo(1);
                assertThat(m.servers()).extracting(ServerStatus::state).containsOnly(ServerState.HEALTHY);
                assertThat(m.servers().get(1).lagBytes()).isGreaterThanOrEqualTo(0);
                assertThat(m.servers().get(1).lagMillis()).isGreaterThanOrEqualTo(0);
            }
        }
    }

    /** A DSN for a port nothing listens on (bound and released, so it is free but closed). */
    static Dsn deadServer() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        return Dsn.parse("postgres://u:nobody-knows@127.0.0.1:" + port + "/db?connect_timeout=2");
    }
}
