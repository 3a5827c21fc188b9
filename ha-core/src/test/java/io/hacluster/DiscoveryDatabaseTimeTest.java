package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.hacluster.discovery.ClusterDiscoveryService;
import io.hacluster.discovery.DiscoveryRow;
import io.hacluster.discovery.DiscoverySettings;
import io.hacluster.identity.NodeId;
import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Why a ClusterNode's discovery keeps LastPingAt in database time: with application clocks ten
 * minutes apart and an offline time of 60 s, the node ahead deletes the other's row as stale and
 * never lists it; in database time both list each other and every row is fresh.
 */
class DiscoveryDatabaseTimeTest {

    private static final Duration OFFLINE_AFTER = Duration.ofSeconds(60);
    private static final long TEN_MINUTES = Duration.ofMinutes(10).toMillis();
    private static PostgresTopology pg;
    private final List<ClusterDiscoveryService> services = new ArrayList<>();

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
        services.forEach(ClusterDiscoveryService::close);
    }

    private static Connection connect() throws SQLException {
        return pg.primary().connect();
    }

    private static DiscoverySettings settings(String cluster, int gossipPort) {
        // a refresh interval longer than the test takes: only start() writes
        return new DiscoverySettings(DiscoverySettings.DEFAULT_TYPE, cluster, "127.0.0.1", gossipPort, gossipPort + 1,
                Duration.ofSeconds(30), OFFLINE_AFTER);
    }

    private ClusterDiscoveryService withClock(String cluster, String id, int port, long offsetMillis) {
        ClusterDiscoveryService s = new ClusterDiscoveryService(DiscoveryDatabaseTimeTest::connect,
                settings(cluster, port), id, () -> System.currentTimeMillis() + offsetMillis, rows -> { },
                "ha-" + id.substring(0, 6) + "-discovery");
        services.add(s);
        return s;
    }

    private ClusterDiscoveryService inDatabaseTime(String cluster, String id, int port) {
        ClusterDiscoveryService s = ClusterDiscoveryService.usingDatabaseTime(DiscoveryDatabaseTimeTest::connect,
                settings(cluster, port), id, rows -> { }, "ha-" + id.substring(0, 6) + "-discovery");
        services.add(s);
        return s;
    }

    private static List<String> ids(List<DiscoveryRow> rows) {
        return rows.stream().map(DiscoveryRow::id).toList();
    }

    /** Each row's LastPingAt minus the database's now, in ms. */
    private static List<Long> agesMillis(String cluster) throws SQLException {
        try (Connection c = connect(); PreparedStatement st = c.prepareStatement(
                "SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - LastPingAt "
                        + "FROM ClusterDiscovery WHERE ClusterName = ?")) {
            st.setString(1, cluster);
            List<Long> ages = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    ages.add(rs.getLong(1));
                }
            }
            return ages;
        }
    }

    @Test
    void withApplicationClocksTenMinutesApartTheNodeAheadDropsTheOther() throws Exception {
        String cluster = TestNodes.clusterName();
        String behind = NodeId.generate();
        String ahead = NodeId.generate();
        withClock(cluster, behind, 18_100, -TEN_MINUTES).start();
        List<DiscoveryRow> seenAhead = withClock(cluster, ahead, 18_200, TEN_MINUTES).start();
        assertThat(ids(seenAhead)).as("the node ahead deleted the other's row as stale").doesNotContain(behind);
        assertThat(agesMillis(cluster)).as("only the row of the node ahead is left").hasSize(1);
    }

    @Test
    void inDatabaseTimeBothListEachOtherAndEveryRowIsFresh() throws Exception {
        String cluster = TestNodes.clusterName();
        String first = NodeId.generate();
        String second = NodeId.generate();
        inDatabaseTime(cluster, first, 18_300).start();
        List<DiscoveryRow> seenBySecond = inDatabaseTime(cluster, second, 18_400).start();
        assertThat(ids(seenBySecond)).containsExactly(first);
        assertThat(ids(services.get(0).peers())).containsExactly(second);
        assertThat(agesMillis(cluster)).hasSize(2)
                .allSatisfy(age -> assertThat(age).isBetween(0L, OFFLINE_AFTER.toMillis()));
    }
}
