package io.hacluster.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Schema creation against a real PostgreSQL server from the testkit. */
class LibrarySchemaTest {

    private static final String TABLE = "ha_schema_probe";
    /** A table, a second table and an index: each kind of object PostgreSQL can race on. */
    private static final List<String> DDL = List.of(
            "CREATE TABLE IF NOT EXISTS " + TABLE + " (Id VARCHAR(26) PRIMARY KEY, Name VARCHAR(64), At BIGINT)",
            "CREATE TABLE IF NOT EXISTS " + TABLE + "_lease (Name VARCHAR(64) PRIMARY KEY, Holder VARCHAR(26))",
            "CREATE INDEX IF NOT EXISTS idx_" + TABLE + "_name ON " + TABLE + " (Name)");

    private static PostgresTopology pg;

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

    @BeforeEach
    void dropProbe() throws SQLException {
        drop();
    }

    private static void drop() throws SQLException {
        try (Connection c = pg.primary().connect(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + TABLE + ", " + TABLE + "_lease");
        }
    }

    private static boolean exists(String table) throws SQLException {
        try (Connection c = pg.primary().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_regclass('" + table + "') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    @Test
    void sessionsCreatingAtTheSameInstantAllSucceedRoundAfterRound() throws Exception {
        int sessions = 6;
        int rounds = 20;
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        try {
            for (int round = 0; round < rounds; round++) {
                drop();
                // Connections are open before the barrier, so the DDL itself starts together.
                List<Connection> connections = new ArrayList<>();
                for (int i = 0; i < sessions; i++) {
                    connections.add(pg.primary().connect());
                }
                try {
                    CyclicBarrier together = new CyclicBarrier(sessions);
                    List<Future<?>> creations = new ArrayList<>();
                    for (Connection c : connections) {
                        creations.add(pool.submit(() -> {
                            together.await(30, TimeUnit.SECONDS);
                            LibrarySchema.createIfMissing(c, DDL);
                            return null;
                        }));
                    }
                    for (Future<?> creation : creations) {
                        creation.get(60, TimeUnit.SECONDS);  // rethrows a session's SQLException
                    }
                    for (Connection c : connections) {
                        assertThat(c.getAutoCommit()).isTrue();
                    }
                } finally {
                    for (Connection c : connections) {
                        c.close();
                    }
                }
                assertThat(exists(TABLE)).as("round %d", round).isTrue();
                assertThat(exists(TABLE + "_lease")).as("round %d", round).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFailingStatementLeavesNothingBehindAndAutoCommitOn() throws Exception {
        try (Connection c = pg.primary().connect()) {
            assertThatThrownBy(() -> LibrarySchema.createIfMissing(c, List.of(DDL.get(0),
                    "CREATE TABLE IF NOT EXISTS " + TABLE + "_lease (Name NO_SUCH_TYPE)")))
                    .isInstanceOf(SQLException.class);
            assertThat(c.getAutoCommit()).isTrue();
        }
        assertThat(exists(TABLE)).isFalse();
    }

    @Test
    void refusesToEndTheCallersTransaction() throws Exception {
        try (Connection c = pg.primary().connect()) {
            c.setAutoCommit(false);
            assertThatThrownBy(() -> LibrarySchema.createIfMissing(c, DDL))
                    .isInstanceOf(IllegalStateException.class);
            c.rollback();
        }
        assertThat(exists(TABLE)).isFalse();
    }

    @Test
    void creationWaitsForAnotherNodeHoldingTheSchemaLock() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection holder = pg.primary().connect(); Connection creator = pg.primary().connect()) {
            holder.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                s.execute("SELECT pg_advisory_xact_lock(" + LibrarySchema.LOCK_KEY + ")");
            }
            Future<?> creation = pool.submit(() -> {
                LibrarySchema.createIfMissing(creator, DDL);
                return null;
            });
            await().atMost(Duration.ofSeconds(20)).until(LibrarySchemaTest::someoneWaitsForAnAdvisoryLock);
            assertThat(creation).isNotDone();
            assertThat(exists(TABLE)).isFalse();
            holder.commit();
            creation.get(30, TimeUnit.SECONDS);
            assertThat(exists(TABLE)).isTrue();
        } finally {
            pool.shutdownNow();
        }
    }

    private static boolean someoneWaitsForAnAdvisoryLock() throws SQLException {
        try (Connection c = pg.primary().connectAsSuperuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")) {
            rs.next();
            return rs.getInt(1) > 0;
        }
    }
}
