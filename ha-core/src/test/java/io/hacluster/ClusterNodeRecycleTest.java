package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.config.SqlSettings;
import io.hacluster.db.DatabaseRouter;
import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code recycleDatabaseConnectionsEverywhere()} on a 3-node cluster with a real primary and
 * replica: every node replaces every pooled connection (the old backends disappear from the
 * servers), while a transaction each node has in flight on a master connection commits on it.
 * Then a live reload that builds new pools lets a transaction in flight commit too.
 */
class ClusterNodeRecycleTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private PostgresTopology pg;
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void tearDown() {
        nodes.forEach(ClusterNode::close);
        if (pg != null) {
            pg.close();
        }
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Which of {@code pids} still have a backend on {@code server}. */
    private static Set<Integer> alive(PostgresServer server, Set<Integer> pids) throws SQLException {
        Set<Integer> out = new HashSet<>();
        try (Connection c = server.connectAsSuperuser();
             PreparedStatement ps = c.prepareStatement("SELECT pid FROM pg_stat_activity WHERE pid = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("integer", pids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getInt(1));
                }
            }
        }
        return out;
    }

    @Test
    void everyPoolIsReplacedOnEveryNodeWhileInFlightWorkFinishes() throws Exception {
        pg = PostgresTopology.start(1);
        try (Connection c = pg.primary().connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE recycled (node text NOT NULL, step text NOT NULL)");
        }
        SqlSettings sql = SqlSettings.builder().dataSource(pg.primary().dsn())
                .dataSourceReplicas(List.of(pg.replicas().get(0).dsn())).maxOpenConns(4).maxIdleConns(2).build();
        String cluster = TestNodes.clusterName();
        String seed = null;
        for (int i = 0; i < 3; i++) {
            ClusterNode n = ClusterNode.builder()
                    .clusterSettings(TestNodes.settings(cluster, seed == null ? List.of() : List.of(seed)).build())
                    .sqlSettings(sql).joinTimeout(Duration.ofSeconds(10)).build();
            n.start();
            nodes.add(n);
            seed = seed == null ? "127.0.0.1:" + n.gossipAddress().getPort() : seed;
        }
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));

        Set<Integer> oldMasterPids = new HashSet<>();
        Set<Integer> oldReplicaPids = new HashSet<>();
        List<Connection> inFlight = new ArrayList<>();
        List<Integer> inFlightPids = new ArrayList<>();
        for (ClusterNode n : nodes) {
            DatabaseRouter router = n.database().orElseThrow();
            Connection tx = router.master();
            tx.setAutoCommit(false);
            try (PreparedStatement ps = tx.prepareStatement("INSERT INTO recycled VALUES (?, 'before')")) {
                ps.setString(1, n.id());
                ps.executeUpdate();
            }
            inFlight.add(tx);
            inFlightPids.add(pid(tx));
            oldMasterPids.add(pid(tx));
            try (Connection idle = router.master()) {
                oldMasterPids.add(pid(idle));
            }
            try (Connection idle = router.replica()) {
                oldReplicaPids.add(pid(idle));
            }
        }

        ClusterWide<ConnectionRecycleResult> all = nodes.get(1).recycleDatabaseConnectionsEverywhere(WAIT)
                .get(60, TimeUnit.SECONDS);
        System.out.println("recycled: " + all);
        assertThat(all.allAnswered()).as("failures: %s", all.failures()).isTrue();
        assertThat(all.nodes()).hasSize(3);
        for (ConnectionRecycleResult r : all.results()) {
            assertThat(r.succeeded()).isTrue();
            assertThat(r.pools()).extracting(RecycledPool::tier).containsExactly("MASTER", "REPLICA");
            assertThat(r.pools().get(0).borrowed()).as("the transaction in flight").isGreaterThanOrEqualTo(1);
            assertThat(r.pools().get(0).connections()).isGreaterThanOrEqualTo(2);
        }

        // The work in flight finishes on its connection, which is closed only once given back.
        for (int i = 0; i < nodes.size(); i++) {
            Connection tx = inFlight.get(i);
            try (PreparedStatement ps = tx.prepareStatement("INSERT INTO recycled VALUES (?, 'after')")) {
                ps.setString(1, nodes.get(i).id());
                ps.executeUpdate();
            }
            assertThat(pid(tx)).isEqualTo(inFlightPids.get(i));
            tx.commit();
            tx.close();
        }
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(alive(pg.primary(), oldMasterPids)).as("old master backends").isEmpty();
            assertThat(alive(pg.replicas().get(0), oldReplicaPids)).as("old replica backends").isEmpty();
        });
        for (ClusterNode n : nodes) {
            DatabaseRouter router = n.database().orElseThrow();
            try (Connection c = router.master()) {
                assertThat(oldMasterPids).doesNotContain(pid(c));
            }
            try (Connection c = router.replica()) {
                assertThat(oldReplicaPids).doesNotContain(pid(c));
            }
        }
        try (Connection c = pg.primary().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM recycled")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(2L * nodes.size());
        }

        // A live reload (new pools) does not drop work in flight either: it finishes on the old pool.
        ClusterNode first = nodes.get(0);
        DatabaseRouter router = first.database().orElseThrow();
        Connection tx = router.master();
        tx.setAutoCommit(false);
        try (PreparedStatement ps = tx.prepareStatement("INSERT INTO recycled VALUES (?, 'during reload')")) {
            ps.setString(1, first.id());
            ps.executeUpdate();
        }
        ConfigReloadResult reloaded = first.reloadConfig(first.config().withSqlSettings(sql.toBuilder()
                .maxOpenConns(5).build()));
        assertThat(reloaded.applied()).containsExactly("SqlSettings.MaxOpenConns");
        assertThat(router.settings().maxOpenConns()).isEqualTo(5);
        try (PreparedStatement ps = tx.prepareStatement("INSERT INTO recycled VALUES (?, 'during reload')")) {
            ps.setString(1, first.id());
            ps.executeUpdate();
        }
        tx.commit();
        tx.close();
        try (Connection c = pg.primary().connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM recycled WHERE step = 'during reload'")) {
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(2);
            }
        }
    }
}
