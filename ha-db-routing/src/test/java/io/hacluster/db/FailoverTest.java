package io.hacluster.db;

import static io.hacluster.db.Pg.dsn;
import static io.hacluster.db.Pg.exec;
import static io.hacluster.db.Pg.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import io.hacluster.testkit.PostgresTopologyTest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Manual failover: kill the primary, promote a replica, reload. Destroys its topology. */
@PostgresTopologyTest(replicas = 2)
class FailoverTest {

    private static final int MAX_WRITES = 100_000;

    @Test
    void writesMoveToThePromotedServerAndNeverReachAStandby(PostgresTopology pg) throws Exception {
        PostgresServer oldPrimary = pg.primary();
        PostgresServer replica1 = pg.replicas().get(0);
        PostgresServer replica2 = pg.replicas().get(1);
        try (Connection c = oldPrimary.connect()) {
            exec(c, "CREATE TABLE writes (id bigserial PRIMARY KEY, n bigint)");
        }
        pg.awaitReplay(Duration.ofSeconds(30));

        try (DatabaseRouter router = DatabaseRouter.start(settings(pg).connectionTimeoutMillis(1_000).build())) {
            AtomicBoolean stop = new AtomicBoolean();
            Map<Integer, AtomicLong> successesByPort = new ConcurrentHashMap<>();
            List<String> failureStates = new CopyOnWriteArrayList<>();
            List<String> standbyWrites = new CopyOnWriteArrayList<>();
            Thread writer = new Thread(() -> {
                for (long n = 0; n < MAX_WRITES && !stop.get(); n++) {
                    try (Connection c = router.master();
                         PreparedStatement ps = c.prepareStatement(
                                 "INSERT INTO writes (n) VALUES (?) RETURNING inet_server_port(), pg_is_in_recovery()")) {
                        ps.setLong(1, n);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            if (rs.getBoolean(2)) {
                                standbyWrites.add("port " + rs.getInt(1));
                            }
                            successesByPort.computeIfAbsent(rs.getInt(1), p -> new AtomicLong()).incrementAndGet();
                        }
                    } catch (SQLException e) {
                        failureStates.add(String.valueOf(e.getSQLState()));
                        sleepQuietly(20);
                    }
                }
            }, "ha-test-writer");
            writer.setDaemon(true);
            writer.start();
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> count(successesByPort, oldPrimary) > 50);
                oldPrimary.kill();

                // Reads keep working on the replicas while there is no primary.
                for (int i = 0; i < 10; i++) {
                    int port = router.read(Pg::port);
                    assertThat(port).isIn(replica1.port(), replica2.port());
                }
                // Pointing the master at a standby is refused, and the old settings stay.
                RouterSettings tooEarly = router.settings().toBuilder().master(dsn(replica1))
                        .replicas(List.of(dsn(replica2))).build();
                assertThatThrownBy(() -> router.reload(tooEarly))
                        .isInstanceOf(SQLException.class).hasMessageContaining("in recovery");
                assertThat(router.settings().master()).isEqualTo(dsn(oldPrimary));

                pg.promote(replica1);
                router.reload(tooEarly);
                await().atMost(Duration.ofSeconds(30)).until(() -> count(successesByPort, replica1) > 50);
            } finally {
                stop.set(true);
                writer.join(TimeUnit.SECONDS.toMillis(30));
            }
            assertThat(standbyWrites).as("writes that ran on a server in recovery").isEmpty();
            assertThat(failureStates).as("a write that reached a standby fails with 25006").doesNotContain("25006");
            assertThat(successesByPort.keySet()).containsExactlyInAnyOrder(oldPrimary.port(), replica1.port());
            try (Connection c = router.master()) {
                assertThat(Pg.port(c)).isEqualTo(replica1.port());
                exec(c, "INSERT INTO writes (n) VALUES (-1)");
            }
            // The new master is healthy; the old pools were drained and closed.
            assertThat(router.servers().get(0).state()).isEqualTo(ServerState.HEALTHY);
            assertThat(router.metrics().pools()).hasSize(2);
        }
    }

    private static long count(Map<Integer, AtomicLong> byPort, PostgresServer server) {
        AtomicLong n = byPort.get(server.port());
        return n == null ? 0 : n.get();
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
