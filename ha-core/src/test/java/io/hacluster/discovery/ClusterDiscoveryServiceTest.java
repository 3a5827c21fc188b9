package io.hacluster.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.identity.NodeId;
import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** Discovery against a real PostgreSQL server from the testkit. */
class ClusterDiscoveryServiceTest {

    private static PostgresTopology pg;

    private final List<ClusterDiscoveryService> services = new ArrayList<>();
    private final AtomicLong clock = new AtomicLong(1_700_000_000_000L);
    private String cluster;

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

    @org.junit.jupiter.api.BeforeEach
    void name(TestInfo info) {
        cluster = "c-" + info.getTestMethod().orElseThrow().getName().hashCode();
    }

    @AfterEach
    void closeAll() {
        services.forEach(ClusterDiscoveryService::close);
    }

    private static Connection connect() throws SQLException {
        return pg.primary().connect();
    }

    private DiscoverySettings settings(String host, int gossipPort, Duration interval) {
        return new DiscoverySettings(DiscoverySettings.DEFAULT_TYPE, cluster, host, gossipPort, gossipPort + 1,
                interval, Duration.ofMinutes(30));
    }

    private ClusterDiscoveryService service(String id, DiscoverySettings settings, List<List<DiscoveryRow>> seen) {
        ClusterDiscoveryService s = new ClusterDiscoveryService(ClusterDiscoveryServiceTest::connect, settings, id,
                clock::get, seen::add, "ha-" + id.substring(0, 6) + "-discovery");
        services.add(s);
        return s;
    }

    private List<DiscoveryRow> rows() throws SQLException {
        List<DiscoveryRow> rows = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT Id, Type, ClusterName, Hostname, GossipPort, Port, CreateAt, LastPingAt "
                        + "FROM ClusterDiscovery WHERE ClusterName = ? ORDER BY Id")) {
            ps.setString(1, cluster);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new DiscoveryRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getInt(5), rs.getInt(6), rs.getLong(7), rs.getLong(8)));
                }
            }
        }
        return rows;
    }

    private void insert(DiscoveryRow row) throws SQLException {
        new DiscoveryStore(ClusterDiscoveryServiceTest::connect).createTableIfMissing();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO ClusterDiscovery VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, row.id());
            ps.setString(2, row.type());
            ps.setString(3, row.clusterName());
            ps.setString(4, row.hostname());
            ps.setInt(5, row.gossipPort());
            ps.setInt(6, row.port());
            ps.setLong(7, row.createAt());
            ps.setLong(8, row.lastPingAt());
            ps.executeUpdate();
        }
    }

    @Test
    void startRegistersCleansUpAndReturnsFreshPeersOfTheSameClusterAndType() throws Exception {
        long now = clock.get();
        String fresh = NodeId.generate();
        String stale = NodeId.generate();
        insert(new DiscoveryRow(fresh, DiscoverySettings.DEFAULT_TYPE, cluster, "10.0.0.2", 8074, 8075, now - 5000, now - 1000));
        insert(new DiscoveryRow(stale, DiscoverySettings.DEFAULT_TYPE, cluster, "10.0.0.3", 8074, 8075, 0, now - 31 * 60_000));
        insert(new DiscoveryRow(NodeId.generate(), DiscoverySettings.DEFAULT_TYPE, cluster + "-other", "10.0.0.4", 8074, 8075, now, now));
        insert(new DiscoveryRow(NodeId.generate(), "other_service", cluster, "10.0.0.5", 8074, 8075, now, now));

        String id = NodeId.generate();
        List<DiscoveryRow> peers = service(id, settings("127.0.0.1", 18074, Duration.ofMinutes(10)), new ArrayList<>()).start();

        assertThat(peers).extracting(DiscoveryRow::id).containsExactly(fresh);
        assertThat(peers.get(0).hostname()).isEqualTo("10.0.0.2");
        List<DiscoveryRow> rows = rows();
        assertThat(rows).extracting(DiscoveryRow::id).doesNotContain(stale).contains(id, fresh);
        DiscoveryRow own = rows.stream().filter(r -> r.id().equals(id)).findFirst().orElseThrow();
        assertThat(own).isEqualTo(new DiscoveryRow(id, DiscoverySettings.DEFAULT_TYPE, cluster, "127.0.0.1",
                18074, 18075, now, now));
    }

    @Test
    void restartReplacesTheRowOfThePreviousProcessOnTheSameHostAndPort() throws Exception {
        long now = clock.get();
        String previous = NodeId.generate();
        insert(new DiscoveryRow(previous, DiscoverySettings.DEFAULT_TYPE, cluster, "127.0.0.1", 18074, 18075, now - 9000, now - 9000));
        String id = NodeId.generate();
        assertThat(service(id, settings("127.0.0.1", 18074, Duration.ofMinutes(10)), new ArrayList<>()).start()).isEmpty();
        assertThat(rows()).extracting(DiscoveryRow::id).containsExactly(id);
    }

    @Test
    void restartWithAPersistedIdReplacesItsOwnOldRowEvenAtANewAddress() throws Exception {
        String id = NodeId.generate();
        insert(new DiscoveryRow(id, DiscoverySettings.DEFAULT_TYPE, cluster, "10.9.9.9", 1, 2, 0, clock.get()));
        service(id, settings("127.0.0.1", 18074, Duration.ofMinutes(10)), new ArrayList<>()).start();
        assertThat(rows()).singleElement().satisfies(r -> assertThat(r.hostname()).isEqualTo("127.0.0.1"));
    }

    @Test
    void nodesSharingAHostButNotAGossipPortKeepTheirOwnRows() throws Exception {
        List<String> ids = List.of(NodeId.generate(), NodeId.generate(), NodeId.generate());
        List<DiscoveryRow> lastSeen = List.of();
        for (int i = 0; i < ids.size(); i++) {
            lastSeen = service(ids.get(i), settings("127.0.0.1", 18074 + 10 * i, Duration.ofMinutes(10)),
                    new ArrayList<>()).start();
        }
        assertThat(lastSeen).extracting(DiscoveryRow::id).containsExactlyInAnyOrderElementsOf(ids.subList(0, 2));
        assertThat(rows()).extracting(DiscoveryRow::gossipPort).containsExactlyInAnyOrder(18074, 18084, 18094);
    }

    @Test
    void refreshKeepsTheRowFreshReinsertsItWhenDeletedAndReportsPeers() throws Exception {
        List<List<DiscoveryRow>> seenByA = new CopyOnWriteArrayList<>();
        String a = NodeId.generate();
        String b = NodeId.generate();
        service(a, settings("127.0.0.1", 18074, Duration.ofMillis(200)), seenByA).start();
        clock.addAndGet(1000);
        service(b, settings("127.0.0.1", 18084, Duration.ofMinutes(10)), new ArrayList<>()).start();

        // A learns about B, which started after it, from a refresh.
        await().atMost(Duration.ofSeconds(20)).until(() -> !seenByA.isEmpty()
                && seenByA.get(seenByA.size() - 1).stream().anyMatch(r -> r.id().equals(b)));
        long pinged = clock.addAndGet(5000);
        await().atMost(Duration.ofSeconds(20)).until(() -> rows().stream()
                .anyMatch(r -> r.id().equals(a) && r.lastPingAt() == pinged));

        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM ClusterDiscovery WHERE Id = '" + a + "'");
        }
        ClusterDiscoveryService serviceA = services.get(0);
        await().atMost(Duration.ofSeconds(20)).until(() -> serviceA.reinserts() > 0
                && rows().stream().anyMatch(r -> r.id().equals(a)));
        DiscoveryRow back = rows().stream().filter(r -> r.id().equals(a)).findFirst().orElseThrow();
        assertThat(back.createAt()).isEqualTo(1_700_000_000_000L);  // the original CreateAt survives
    }

    @Test
    void closeDeletesOnlyTheOwnRowAndIsIdempotent() throws Exception {
        String a = NodeId.generate();
        String b = NodeId.generate();
        ClusterDiscoveryService sa = service(a, settings("127.0.0.1", 18074, Duration.ofMinutes(10)), new ArrayList<>());
        sa.start();
        service(b, settings("127.0.0.1", 18084, Duration.ofMinutes(10)), new ArrayList<>()).start();
        sa.close();
        sa.close();
        assertThat(rows()).extracting(DiscoveryRow::id).containsExactly(b);
        assertThatThrownBy(sa::start).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void nodesStartingTogetherAllCreateTheTableAndRegister() throws Exception {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS ClusterDiscovery");
        }
        int n = 4;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<DiscoveryRow>>> starts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ClusterDiscoveryService s = service(NodeId.generate(),
                        settings("127.0.0.1", 18074 + 10 * i, Duration.ofMinutes(10)), new ArrayList<>());
                starts.add(pool.submit(() -> {
                    go.await();
                    return s.start();
                }));
            }
            go.countDown();
            for (Future<List<DiscoveryRow>> f : starts) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(rows()).hasSize(n);
    }

    /**
     * Issue 11: app servers started together against a fresh database. Every round drops the
     * table, then five nodes run the first-start path at the same instant; all must register.
     */
    @Test
    void simultaneousFirstStartsAgainstAnEmptyDatabaseAllSucceedEveryRound() throws Exception {
        int nodes = 5;
        int rounds = 20;
        ExecutorService pool = Executors.newFixedThreadPool(nodes);
        try {
            for (int round = 0; round < rounds; round++) {
                try (Connection c = connect(); Statement s = c.createStatement()) {
                    s.execute("DROP TABLE IF EXISTS ClusterDiscovery");
                }
                CyclicBarrier together = new CyclicBarrier(nodes);
                List<ClusterDiscoveryService> started = new ArrayList<>();
                List<Future<List<DiscoveryRow>>> starts = new ArrayList<>();
                for (int i = 0; i < nodes; i++) {
                    ClusterDiscoveryService s = service(NodeId.generate(),
                            settings("127.0.0.1", 18074 + 10 * i, Duration.ofMinutes(10)), new ArrayList<>());
                    started.add(s);
                    starts.add(pool.submit(() -> {
                        together.await(30, TimeUnit.SECONDS);
                        return s.start();
                    }));
                }
                for (Future<List<DiscoveryRow>> f : starts) {
                    f.get(60, TimeUnit.SECONDS);  // rethrows the SQLException of a start that failed
                }
                assertThat(rows()).as("round %d", round).hasSize(nodes);
                started.forEach(ClusterDiscoveryService::close);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void databaseOutageDuringRefreshIsCountedAndRecoveredFrom() throws Exception {
        List<List<DiscoveryRow>> seen = new CopyOnWriteArrayList<>();
        ClusterDiscoveryService s = service(NodeId.generate(), settings("127.0.0.1", 18074, Duration.ofMillis(200)), seen);
        s.start();
        pg.primary().stop();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> s.refreshFailures() > 0);
        } finally {
            pg.primary().start();
        }
        int before = seen.size();
        await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() > before);
        Set<String> ids = rows().stream().map(DiscoveryRow::id).collect(Collectors.toSet());
        assertThat(ids).hasSize(1);
    }
}
