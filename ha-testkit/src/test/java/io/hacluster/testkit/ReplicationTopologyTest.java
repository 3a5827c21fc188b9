package io.hacluster.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The scenario on one topology, in order: write on the primary and read on both replicas,
 * pause/resume replay, kill and restart a replica that then catches up, restart the primary, then
 * a failover: kill the primary, promote a replica and write to it, re-point the other replica.
 */
@PostgresTopologyTest(replicas = 2)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicationTopologyTest {

    private static final Duration REPLAY = Duration.ofSeconds(30);

    @BeforeAll
    static void createTable(PostgresTopology pg) throws SQLException {
        try (Connection c = pg.primary().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)");
        }
    }

    @Test
    @Order(0)
    void serversDescribeThemselvesAndKeepThePasswordOutOfToString(PostgresTopology pg) throws Exception {
        for (PostgresServer server : pg.servers()) {
            URI dsn = URI.create(server.dsn());
            assertThat(dsn.getScheme()).isEqualTo("postgres");
            assertThat(dsn.getUserInfo()).isEqualTo(server.user() + ":" + server.password());
            assertThat(dsn.getHost()).isEqualTo("127.0.0.1");
            assertThat(dsn.getPort()).isEqualTo(server.port());
            assertThat(dsn.getPath()).isEqualTo("/" + server.database());
            assertThat(dsn.getQuery()).isEqualTo("sslmode=disable&connect_timeout=10");
            assertThat(server.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:" + server.port() + "/"
                    + server.database() + "?sslmode=disable&connectTimeout=10");
            assertThat(server.password()).hasSize(24);
            assertThat(server.toString()).doesNotContain(server.password());
            assertThat(pg.toString()).doesNotContain(server.password());
            try (Connection c = server.connect(); Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT current_user, rolsuper, current_setting('max_connections')::int "
                            + "FROM pg_roles WHERE rolname = current_user")) {
                assertThat(r.next()).isTrue();
                assertThat(r.getString(1)).isEqualTo(server.user());
                assertThat(r.getBoolean(2)).as("application role is not a superuser").isFalse();
                assertThat(r.getInt(3)).isGreaterThanOrEqualTo(250);
            }
        }
        assertThat(pg.servers()).extracting(PostgresServer::name).containsExactly("primary", "replica1", "replica2");
        assertThat(pg.servers()).extracting(PostgresServer::port).doesNotHaveDuplicates();
    }

    @Test
    @Order(1)
    void rowWrittenOnPrimaryIsReadOnBothReplicas(PostgresTopology pg) throws SQLException {
        assertThat(pg.replicas()).hasSize(2);
        insert(pg.primary(), 1, "hello");
        for (PostgresServer replica : pg.replicas()) {
            pg.awaitReplay(replica, REPLAY);
            assertThat(bodies(replica)).containsExactly("hello");
            assertThat(isInRecovery(replica)).isTrue();
        }
        assertThat(isInRecovery(pg.primary())).isFalse();
        try (Connection c = pg.primary().connect();
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT application_name FROM pg_stat_replication "
                        + "WHERE state = 'streaming' AND replay_lsn IS NOT NULL ORDER BY 1")) {
            List<String> streaming = new ArrayList<>();
            while (r.next()) {
                streaming.add(r.getString(1));
            }
            assertThat(streaming).as("lag columns visible to the application role").containsExactly("replica1", "replica2");
        }
    }

    @Test
    @Order(2)
    void replicasRefuseWrites(PostgresTopology pg) {
        assertThatThrownBy(() -> insert(pg.replicas().get(0), 99, "nope"))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("read-only");
    }

    @Test
    @Order(3)
    void pausedReplicaLagsThenCatchesUpAfterResume(PostgresTopology pg) throws SQLException {
        PostgresServer replica = pg.replicas().get(1);
        pg.pauseReplay(replica);
        insert(pg.primary(), 2, "while paused");
        assertThatThrownBy(() -> pg.awaitReplay(replica, Duration.ofMillis(500)))
                .isInstanceOf(PostgresTestkitException.class)
                .hasMessageContaining("did not replay")
                .hasMessageContaining("pause");
        assertThat(bodies(replica)).containsExactly("hello");

        pg.resumeReplay(replica);
        pg.awaitReplay(replica, REPLAY);
        assertThat(bodies(replica)).containsExactly("hello", "while paused");
    }

    @Test
    @Order(4)
    void killedReplicaCatchesUpAfterRestart(PostgresTopology pg) throws SQLException {
        PostgresServer replica = pg.replicas().get(0);
        replica.kill();
        assertThat(replica.isRunning()).isFalse();
        assertThatThrownBy(replica::connect).isInstanceOf(SQLException.class);
        assertThatThrownBy(() -> pg.awaitReplay(replica, REPLAY))
                .isInstanceOf(PostgresTestkitException.class).hasMessageContaining("replica1").hasMessageContaining("not running");

        insert(pg.primary(), 3, "while down");
        replica.start();
        assertThat(replica.isRunning()).isTrue();
        pg.awaitReplay(replica, REPLAY);
        assertThat(bodies(replica)).containsExactly("hello", "while paused", "while down");
    }

    @Test
    @Order(5)
    void stoppedPrimaryComesBackAndReplicasReconnect(PostgresTopology pg) throws SQLException {
        PostgresServer primary = pg.primary();
        int port = primary.port();
        primary.stop();
        assertThat(primary.isRunning()).isFalse();
        primary.start();
        assertThat(primary.port()).isEqualTo(port);
        insert(primary, 4, "after primary restart");
        pg.awaitReplay(REPLAY);
        for (PostgresServer replica : pg.replicas()) {
            assertThat(bodies(replica)).contains("after primary restart");
        }
    }

    @Test
    @Order(6)
    void failoverPromotesTheMostAdvancedReplicaWhichTakesWritesAndTheOtherFollowsIt(PostgresTopology pg)
            throws SQLException {
        PostgresServer oldPrimary = pg.primary();
        pg.awaitReplay(REPLAY);
        oldPrimary.kill();

        // Promote the replica that received the most WAL, so the other one can follow it.
        PostgresServer chosen = pg.replicas().get(0);
        PostgresServer other = pg.replicas().get(1);
        if (compareLsn(receivedLsn(other), receivedLsn(chosen)) > 0) {
            PostgresServer swap = chosen;
            chosen = other;
            other = swap;
        }
        pg.promote(chosen);

        assertThat(pg.primary()).isSameAs(chosen);
        assertThat(chosen.isStandby()).isFalse();
        assertThat(pg.replicas()).containsExactly(other);
        assertThat(isInRecovery(chosen)).isFalse();
        insert(chosen, 5, "on the new primary");
        assertThat(bodies(chosen)).contains("hello", "while down", "after primary restart", "on the new primary");
        PostgresServer promoted = chosen;
        assertThatThrownBy(() -> pg.promote(promoted)).isInstanceOf(IllegalArgumentException.class);

        PostgresServer orphan = other;
        assertThatThrownBy(() -> pg.awaitReplay(orphan, REPLAY))
                .isInstanceOf(PostgresTestkitException.class).hasMessageContaining("upstream primary is not running");
        pg.follow(other, chosen, REPLAY);
        insert(chosen, 6, "streamed from the new primary");
        pg.awaitReplay(other, REPLAY);
        assertThat(bodies(other)).endsWith("on the new primary", "streamed from the new primary");
    }

    private static String receivedLsn(PostgresServer replica) throws SQLException {
        try (Connection c = replica.connectAsSuperuser();
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT pg_last_wal_receive_lsn()::text")) {
            r.next();
            return r.getString(1);
        }
    }

    /** Compares two LSNs written as {@code X/Y} (hex halves). */
    private static int compareLsn(String a, String b) {
        return Long.compareUnsigned(lsn(a), lsn(b));
    }

    private static long lsn(String text) {
        String[] halves = text.split("/");
        return (Long.parseLong(halves[0], 16) << 32) | Long.parseLong(halves[1], 16);
    }

    private static void insert(PostgresServer server, int id, String body) throws SQLException {
        try (Connection c = server.connect();
                PreparedStatement s = c.prepareStatement("INSERT INTO notes (id, body) VALUES (?, ?)")) {
            s.setInt(1, id);
            s.setString(2, body);
            s.executeUpdate();
        }
    }

    private static List<String> bodies(PostgresServer server) throws SQLException {
        try (Connection c = server.connect();
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT body FROM notes ORDER BY id")) {
            List<String> bodies = new ArrayList<>();
            while (r.next()) {
                bodies.add(r.getString(1));
            }
            return bodies;
        }
    }

    private static boolean isInRecovery(PostgresServer server) throws SQLException {
        try (Connection c = server.connect();
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT pg_is_in_recovery()")) {
            r.next();
            return r.getBoolean(1);
        }
    }
}
