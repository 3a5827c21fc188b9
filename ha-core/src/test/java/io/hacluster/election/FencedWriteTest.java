package io.hacluster.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The two fenced-write patterns of docs/election.md, as an application would write them: a write
 * from a deposed leader, carrying its old token, is refused by the database.
 */
class FencedWriteTest {

    private static final Duration LONG = Duration.ofSeconds(30);
    private static final String CLUSTER = "fenced-test";

    /**
     * Pattern 1, the resource keeps the highest token it has seen and refuses lower ones. Works
     * for any store that can do a conditional write, also outside the lease's database.
     * Parameters: value, token, id, token.
     */
    private static final String WRITE_IF_TOKEN_NOT_OLDER = "UPDATE ha_fenced_job SET value = ?, fencing_token = ? "
            + "WHERE id = ? AND fencing_token <= ?";

    /**
     * Pattern 2, in the lease's database: the write goes through only while the writer holds the
     * lease with its token, unexpired in database time. FOR SHARE locks the lease row until the
     * writing transaction ends, so a takeover (which must lock the row to change it) waits for the
     * write, and the write is checked against the latest version of the row.
     * Parameters: value, id, cluster, node, token.
     */
    private static final String WRITE_WHILE_HOLDING = "UPDATE ha_fenced_job SET value = ? WHERE id = ? AND EXISTS ("
            + "SELECT 1 FROM " + LeaseStore.TABLE + " WHERE cluster_name = ? AND holder_id = ? AND fencing_token = ? "
            + "AND expires_at > clock_timestamp() FOR SHARE)";

    private static PostgresTopology pg;
    private static LeaseStore store;

    @BeforeAll
    static void startPostgres() throws SQLException {
        pg = PostgresTopology.start(0);
        store = new LeaseStore(() -> pg.primary().connect(), Duration.ofSeconds(20));
        store.createSchemaIfMissing();
        execute("CREATE TABLE ha_fenced_job (id INT PRIMARY KEY, value TEXT, fencing_token BIGINT NOT NULL DEFAULT 0)");
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @BeforeEach
    void freshRows() throws SQLException {
        execute("DELETE FROM " + LeaseStore.TABLE);
        execute("DELETE FROM ha_fenced_job");
        execute("INSERT INTO ha_fenced_job (id, value) VALUES (1, 'initial')");
    }

    private static void execute(String sql) throws SQLException {
        try (Connection c = pg.primary().connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static String value() throws SQLException {
        try (Connection c = pg.primary().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT value FROM ha_fenced_job WHERE id = 1")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long token(AcquireOutcome outcome) {
        assertThat(outcome).isInstanceOf(AcquireOutcome.Granted.class);
        return ((AcquireOutcome.Granted) outcome).grant().fencingToken();
    }

    private static boolean writeIfTokenNotOlder(String value, long token) throws SQLException {
        try (Connection c = pg.primary().connect(); PreparedStatement ps = c.prepareStatement(WRITE_IF_TOKEN_NOT_OLDER)) {
            ps.setString(1, value);
            ps.setLong(2, token);
            ps.setInt(3, 1);
            ps.setLong(4, token);
            return ps.executeUpdate() == 1;
        }
    }

    private static boolean writeWhileHolding(Connection c, String value, String node, long token) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(WRITE_WHILE_HOLDING)) {
            ps.setString(1, value);
            ps.setInt(2, 1);
            ps.setString(3, CLUSTER);
            ps.setString(4, node);
            ps.setLong(5, token);
            return ps.executeUpdate() == 1;
        }
    }

    private static boolean writeWhileHolding(String value, String node, long token) throws SQLException {
        try (Connection c = pg.primary().connect()) {
            return writeWhileHolding(c, value, node, token);
        }
    }

    @Test
    void theResourceRefusesATokenOlderThanTheLastItSaw() throws Exception {
        long a = token(store.acquire(CLUSTER, "node-a", 1, LONG));
        assertThat(writeIfTokenNotOlder("by a", a)).isTrue();
        assertThat(writeIfTokenNotOlder("by a, again", a)).as("the same holder keeps writing").isTrue();

        // A is deposed (here: it released; a pause past its expiry is the same for the resource).
        assertThat(store.release(CLUSTER, "node-a", a)).isTrue();
        long b = token(store.acquire(CLUSTER, "node-b", 2, LONG));
        assertThat(writeIfTokenNotOlder("by b", b)).isTrue();

        assertThat(writeIfTokenNotOlder("by a, deposed", a)).isFalse();
        assertThat(value()).isEqualTo("by b");
    }

    @Test
    void aWriteCheckedAgainstTheLeaseRowIsRefusedOnceTheWriterNoLongerHoldsIt() throws Exception {
        long a = token(store.acquire(CLUSTER, "node-a", 1, LONG));
        assertThat(writeWhileHolding("by a", "node-a", a)).isTrue();
        assertThat(writeWhileHolding("by b, not holding", "node-b", a)).isFalse();

        assertThat(store.release(CLUSTER, "node-a", a)).isTrue();
        assertThat(writeWhileHolding("by a, released", "node-a", a)).isFalse();
        long b = token(store.acquire(CLUSTER, "node-b", 2, LONG));
        assertThat(writeWhileHolding("by a, deposed", "node-a", a)).isFalse();
        assertThat(writeWhileHolding("by b", "node-b", b)).isTrue();
        assertThat(value()).isEqualTo("by b");
    }

    @Test
    void aTakeoverWaitsForAFencedTransactionInFlight() throws Exception {
        long a = token(store.acquire(CLUSTER, "node-a", 1, Duration.ofSeconds(1)));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection writer = pg.primary().connect()) {
            writer.setAutoCommit(false);
            assertThat(writeWhileHolding(writer, "by a, in flight", "node-a", a)).isTrue();
            // A's lease expires in database time while its write's transaction is still open.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !store.read(CLUSTER).orElseThrow().held());
            Future<AcquireOutcome> takeover = pool.submit(() -> store.acquire(CLUSTER, "node-b", 2, LONG));
            await().atMost(Duration.ofSeconds(15)).until(FencedWriteTest::anAcquireWaitsForALock);
            assertThat(takeover).isNotDone();

            writer.commit();
            long b = token(takeover.get(30, TimeUnit.SECONDS));
            assertThat(b).isGreaterThan(a);
        } finally {
            pool.shutdownNow();
        }
        assertThat(value()).isEqualTo("by a, in flight");
        assertThat(writeWhileHolding("by a, deposed", "node-a", a)).isFalse();
    }

    private static boolean anAcquireWaitsForALock() throws SQLException {
        try (Connection c = pg.primary().connectAsSuperuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                     + "AND query LIKE '%INSERT INTO " + LeaseStore.TABLE + "%'")) {
            rs.next();
            return rs.getInt(1) > 0;
        }
    }
}
