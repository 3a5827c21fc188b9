package io.hacluster.db;

import static io.hacluster.db.Pg.dsn;
import static io.hacluster.db.Pg.port;
import static io.hacluster.db.Pg.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import io.hacluster.testkit.PostgresTopologyTest;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Starting on a slow first check, reloading under waiting borrowers, bad credentials, search retries, spreading. */
@PostgresTopologyTest(replicas = 2)
class StartReloadAndSpreadTest {

    @Test
    void startRetriesAFirstMasterCheckThatTimedOut(PostgresTopology pg) throws Exception {
        PostgresServer primary = pg.primary();
        try (TcpProxy proxy = new TcpProxy(primary.port())) {
            long checkTimeoutMillis = 1_000;
            // No idle connections to keep: nothing but the master check connects during start.
            RouterSettings s = settings(pg).master(proxy.dsnFor(primary.dsn(), primary.port())).replicas(List.of())
                    .maxIdleConns(0).healthCheckTimeoutMillis(checkTimeoutMillis).connectionTimeoutMillis(5_000).build();
            proxy.silentFor(1);
            long started = System.nanoTime();
            try (DatabaseRouter router = DatabaseRouter.start(s)) {
                // The first check did time out: start took at least that long, and then succeeded.
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
                        .isGreaterThanOrEqualTo(checkTimeoutMillis);
                assertThat(router.servers().get(0).state()).isEqualTo(ServerState.HEALTHY);
                try (Connection c = router.master()) {
                    assertThat(port(c)).isEqualTo(primary.port());
                }
            }
        }
    }

    @Test
    void aWrongPasswordIsReportedAsAnAuthenticationFailure(PostgresTopology pg) {
        PostgresServer primary = pg.primary();
        String wrong = "not-the-password-" + System.nanoTime();
        Dsn badPassword = Dsn.parse(primary.dsn().replace(":" + primary.password() + "@", ":" + wrong + "@"));
        assertThatThrownBy(() -> DatabaseRouter.start(settings(pg).master(badPassword).build()))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("authentication failed")
                .hasMessageNotContaining("unreachable")
                .hasMessageNotContaining(wrong)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
    }

    @Test
    void reloadHandsThreadsWaitingOnTheOldMasterPoolToTheNewOne(PostgresTopology pg) throws Exception {
        long connectionTimeoutMillis = 20_000;
        RouterSettings s = settings(pg).maxOpenConns(2).connectionTimeoutMillis(connectionTimeoutMillis).build();
        try (DatabaseRouter router = DatabaseRouter.start(s)) {
            Connection held1 = router.master();
            Connection held2 = router.master();
            try {
                CompletableFuture<Integer> waiter = CompletableFuture.supplyAsync(() -> {
                    try (Connection c = router.master()) {
                        return port(c);
                    } catch (SQLException e) {
                        throw new IllegalStateException(SqlStates.describe(e), e);
                    }
                });
                await().atMost(Duration.ofSeconds(10)).until(() -> router.metrics().pools().get(0).waiting() >= 1);
                router.reload(router.settings().toBuilder().maxOpenConns(3).build());
                // Far sooner than the old pool's connection timeout would have let it go.
                assertThat(waiter.get(connectionTimeoutMillis / 2, TimeUnit.MILLISECONDS)).isEqualTo(pg.primary().port());
            } finally {
                held1.close();
                held2.close();
            }
        }
    }

    @Test
    void searchReadRetriesOnAReplicaWhenTheSearchReplicaFails(PostgresTopology pg) throws Exception {
        PostgresServer replica1 = pg.replicas().get(0);
        PostgresServer replica2 = pg.replicas().get(1);
        RouterSettings s = settings(pg).replicas(List.of(dsn(replica1))).searchReplicas(List.of(dsn(replica2))).build();
        try (DatabaseRouter router = DatabaseRouter.start(s)) {
            int[] attempts = new int[1];
            int servedBy = router.searchRead(c -> {
                attempts[0]++;
                int port = port(c);
                if (port == replica2.port()) {
                    // The search replica's backend dies mid-read, as in a crash or shutdown.
                    Pg.exec(c, "SELECT pg_terminate_backend(pg_backend_pid())");
                    Pg.exec(c, "SELECT 1");
                }
                return port;
            });
            assertThat(attempts[0]).isEqualTo(2);
            assertThat(servedBy).isEqualTo(replica1.port());
            assertThat(router.metrics().readRetries()).isEqualTo(1);
            // With the search replica healthy, search reads go there.
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(router.servers().get(2).state()).isEqualTo(ServerState.HEALTHY));
            assertThat(router.searchRead(Pg::port)).isEqualTo(replica2.port());
        }
    }

    @Test
    void aThreadThatAlternatesTwoKindsOfReadSpreadsBothKinds(PostgresTopology pg) throws Exception {
        PostgresServer replica1 = pg.replicas().get(0);
        PostgresServer replica2 = pg.replicas().get(1);
        try (DatabaseRouter router = DatabaseRouter.start(settings(pg).build())) {
            // Each "request" reads twice, say users then posts, on one thread.
            Map<Integer, Integer> firstReads = new HashMap<>();
            Map<Integer, Integer> allReads = new HashMap<>();
            int requests = 100;
            for (int i = 0; i < requests; i++) {
                try (Connection users = router.replica()) {
                    firstReads.merge(port(users), 1, Integer::sum);
                    allReads.merge(port(users), 1, Integer::sum);
                }
                try (Connection posts = router.replica()) {
                    allReads.merge(port(posts), 1, Integer::sum);
                }
            }
            // Still exactly even per thread...
            assertThat(allReads).containsOnlyKeys(replica1.port(), replica2.port());
            assertThat(allReads.values()).allSatisfy(n -> assertThat(n).isEqualTo(requests));
            // ...and the first read of each request is not pinned to one replica. (Each replica
            // gets it with probability 1/2 per request; fewer than 20 of 100 is a 1e-9 event.)
            assertThat(firstReads).containsOnlyKeys(replica1.port(), replica2.port());
            assertThat(firstReads.values()).allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(20));
        }
    }
}
