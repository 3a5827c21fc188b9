package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.config.ClusterSettings;
import io.hacluster.config.HaConfig;
import io.hacluster.config.JobSettings;
import io.hacluster.config.SqlSettings;
import io.hacluster.db.DatabaseRouter;
import io.hacluster.db.Dsn;
import io.hacluster.election.LeaseSettings;
import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's manual master failover with a configuration reload, on a live 3-node cluster with a
 * real PostgreSQL primary and streaming replica: while every node writes through its router's
 * master, the primary is stopped, each node's file is pointed at the replica, and
 * {@code reloadConfigEverywhere()} is refused everywhere while the replica is still a standby;
 * once it is promoted, the same call moves every node to it. No write ever reaches a standby
 * (it would fail with SQLState 25006), every acknowledged write is in the new primary exactly
 * once, and the failed-write window is printed. Then a change that needs a restart (GossipPort,
 * the lease timing) is reported per node and not applied, beside a live one that is.
 */
class ClusterNodeReloadFailoverTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration RELOAD_DEADLINE = Duration.ofSeconds(30);
    private static final int MAX_WRITES_PER_WRITER = 200_000;
    private static final String READ_ONLY_TRANSACTION = "25006";

    @TempDir
    Path dir;
    private PostgresTopology pg;
    private final List<ClusterNode> nodes = new ArrayList<>();
    private final List<Writer> writers = new ArrayList<>();

    @AfterEach
    void tearDown() throws InterruptedException {
        for (Writer w : writers) {
            w.stop();
        }
        nodes.forEach(ClusterNode::close);
        if (pg != null) {
            pg.close();
        }
    }

    /** One node's continuous writer through {@code router.master()}; bounded in count, stopped by the test. */
    private static final class Writer implements Runnable {
        final int rank;
        final DatabaseRouter router;
        final AtomicBoolean stop = new AtomicBoolean();
        final Map<Integer, AtomicLong> successesByPort = new ConcurrentHashMap<>();
        final Map<String, AtomicLong> failuresBySqlState = new ConcurrentHashMap<>();
        final AtomicLong writesOnAStandby = new AtomicLong();
        final AtomicLong succeeded = new AtomicLong();
        /** The {@code n} of every acknowledged write. */
        final java.util.Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        /** Attempts that failed: each may or may not have committed (in doubt), as for any client. */
        final AtomicLong attemptsFailed = new AtomicLong();
        volatile long lastSuccessNanosOnOld;
        volatile long firstSuccessNanosOnNew;
        volatile int oldPort;
        volatile int newPort;
        final Thread thread;

        Writer(int rank, DatabaseRouter router, int oldPort) {
            this.rank = rank;
            this.router = router;
            this.oldPort = oldPort;
            this.thread = new Thread(this, "test-writer-" + rank);
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            for (long n = 0; n < MAX_WRITES_PER_WRITER && !stop.get(); n++) {
                try (Connection c = router.master();
                     PreparedStatement ps = c.prepareStatement("INSERT INTO writes (node, n) VALUES (?, ?)"
                             + " RETURNING inet_server_port(), pg_is_in_recovery()")) {
                    ps.setInt(1, rank);
                    ps.setLong(2, n);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        int port = rs.getInt(1);
                        if (rs.getBoolean(2)) {
                            writesOnAStandby.incrementAndGet();
                        }
                        successesByPort.computeIfAbsent(port, p -> new AtomicLong()).incrementAndGet();
                        succeeded.incrementAndGet();
                        acknowledged.add(n);
                        long now = System.nanoTime();
                        if (port == oldPort) {
                            lastSuccessNanosOnOld = now;
                        } else if (port == newPort && firstSuccessNanosOnNew == 0) {
                            firstSuccessNanosOnNew = now;
                        }
                    }
                    pause(2);
                } catch (SQLException e) {
                    failuresBySqlState.computeIfAbsent(String.valueOf(e.getSQLState()), s -> new AtomicLong())
                            .incrementAndGet();
                    attemptsFailed.incrementAndGet();
                    pause(20);
                }
            }
        }

        long on(PostgresServer server) {
            AtomicLong n = successesByPort.get(server.port());
            return n == null ? 0 : n.get();
        }

        long failures() {
            return failuresBySqlState.values().stream().mapToLong(AtomicLong::get).sum();
        }

        void stop() throws InterruptedException {
            stop.set(true);
            thread.join(TimeUnit.SECONDS.toMillis(30));
        }

        private static void pause(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static HaConfig config(ClusterSettings cluster, String master, List<String> replicas, int queryTimeout,
                                   long leaseMillis) {
        return HaConfig.builder()
                .clusterSettings(cluster)
                .sqlSettings(SqlSettings.builder().dataSource(master).dataSourceReplicas(replicas)
                        .maxOpenConns(4).maxIdleConns(2).queryTimeout(queryTimeout).build())
                .jobSettings(JobSettings.builder().leaderLeaseMilliseconds(leaseMillis).build())
                .build();
    }

    /** The operator's edit of a node's file, outside the library (the files are ReadOnlyConfig). */
    private static void rewrite(Path file, HaConfig config) throws Exception {
        Files.writeString(file, config.toJson());
    }

    /** Per node: applied, restart required, or the error / missing answer; hashes shortened. */
    private static String summary(ClusterWide<ConfigReloadResult> all) {
        StringBuilder out = new StringBuilder();
        all.nodes().forEach((id, a) -> {
            out.append("\n  ").append(id).append(": ");
            if (!a.answered()) {
                out.append("no answer: ").append(a.failure());
                return;
            }
            ConfigReloadResult r = a.result();
            out.append(r.succeeded() ? "ok" : "FAILED (" + r.error() + ")")
                    .append(", applied ").append(r.applied())
                    .append(", restart required ").append(r.restartRequired())
                    .append(", rejected ").append(r.withStatus(SettingChange.Status.REJECTED).stream()
                            .map(SettingChange::setting).toList())
                    .append(", hash ").append(r.configHashBefore(), 0, 8).append(" -> ")
                    .append(r.configHashAfter(), 0, 8);
        });
        return out.toString();
    }

    @Test
    void reloadConfigEverywhereMovesEveryNodeToThePromotedMasterAndReportsRestartOnlyChanges() throws Exception {
        pg = PostgresTopology.start(1);
        PostgresServer oldPrimary = pg.primary();
        PostgresServer replica = pg.replicas().get(0);
        try (Connection c = oldPrimary.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE writes (id bigserial PRIMARY KEY, node int NOT NULL, n bigint NOT NULL)");
        }
        pg.awaitReplay(Duration.ofSeconds(30));

        String clusterName = TestNodes.clusterName();
        List<Path> files = new ArrayList<>();
        List<ClusterSettings> clusterSettings = new ArrayList<>();
        String seed = null;
        for (int rank = 1; rank <= 3; rank++) {
            Path idFile = dir.resolve("n" + rank + ".id");
            Files.writeString(idFile, ElectionNodes.idOf(rank) + "\n");
            ClusterSettings cs = TestNodes.settings(clusterName, seed == null ? List.of() : List.of(seed))
                    .nodeIdFile(idFile.toString()).readOnlyConfig(true).build();
            Path file = dir.resolve("config-" + rank + ".json");
            rewrite(file, config(cs, oldPrimary.dsn(), List.of(replica.dsn()), 10, 15_000));
            ClusterNode node = ClusterNode.builder().configFile(file, Map.of())
                    .leaseSettings(new LeaseSettings(Duration.ofSeconds(6), Duration.ofSeconds(3), Duration.ofMillis(500)))
                    .joinTimeout(Duration.ofSeconds(10))
                    .build();
            node.start();
            nodes.add(node);
            files.add(file);
            clusterSettings.add(cs);
            if (seed == null) {
                seed = "127.0.0.1:" + node.gossipAddress().getPort();
            }
        }
        ClusterNode asker = nodes.get(1);  // any node may ask; not the first (the leader), to show that
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> n.clusterInfos().size() == 3
                && n.clusterInfos().stream().allMatch(i -> i.status() == NodeStatus.GREEN)));
        String hashBefore = nodes.get(0).configHash();
        assertThat(nodes).allSatisfy(n -> assertThat(n.configHash()).isEqualTo(hashBefore));

        for (int rank = 1; rank <= 3; rank++) {
            Writer w = new Writer(rank, nodes.get(rank - 1).database().orElseThrow(), oldPrimary.port());
            w.newPort = replica.port();
            writers.add(w);
            w.thread.start();
        }
        await().atMost(WAIT).until(() -> writers.stream().allMatch(w -> w.on(oldPrimary) >= 20));

        // Fence the old primary: a fast shutdown (its WAL goes to the streaming replica first).
        oldPrimary.stop();
        long stoppedAt = System.nanoTime();
        assertThat(oldPrimary.isRunning()).isFalse();
        assertThatThrownBy(oldPrimary::connect).isInstanceOf(SQLException.class);

        // Each node's file now names the replica as master, but it is still a standby: refused everywhere.
        for (int i = 0; i < 3; i++) {
            rewrite(files.get(i), config(clusterSettings.get(i), replica.dsn(), List.of(), 10, 15_000));
        }
        ClusterWide<ConfigReloadResult> tooEarly = asker.reloadConfigEverywhere(RELOAD_DEADLINE).get(60, TimeUnit.SECONDS);
        System.out.println("reload while the replica is a standby: " + summary(tooEarly));
        assertThat(tooEarly.nodes()).hasSize(3);
        assertThat(tooEarly.allAnswered()).as("failures: %s", tooEarly.failures()).isTrue();
        for (ConfigReloadResult r : tooEarly.results()) {
            assertThat(r.succeeded()).as("%s", r).isFalse();
            assertThat(r.error()).contains("in recovery");
            assertThat(r.withStatus(SettingChange.Status.REJECTED)).extracting(SettingChange::setting)
                    .containsExactly("SqlSettings.DataSource", "SqlSettings.DataSourceReplicas");
            assertThat(r.configHashAfter()).isEqualTo(hashBefore);
            assertThat(r.error()).doesNotContain(oldPrimary.password());
        }
        for (ClusterNode n : nodes) {
            assertThat(n.database().orElseThrow().settings().master()).isEqualTo(Dsn.parse(oldPrimary.dsn()));
            assertThat(n.config().sqlSettings().dataSource()).isEqualTo(oldPrimary.dsn());
            assertThat(n.configHash()).isEqualTo(hashBefore);
        }

        long promotedAt = System.nanoTime();
        pg.promote(replica);
        long reloadAt = System.nanoTime();
        ClusterWide<ConfigReloadResult> moved = asker.reloadConfigEverywhere(RELOAD_DEADLINE).get(60, TimeUnit.SECONDS);
        long reloadedAt = System.nanoTime();
        System.out.println("reload after the promotion: " + summary(moved));
        assertThat(moved.nodes()).hasSize(3);
        assertThat(moved.allAnswered()).as("failures: %s", moved.failures()).isTrue();
        String movedHash = HaConfig.load(files.get(0), Map.of()).hash();
        assertThat(movedHash).isNotEqualTo(hashBefore);
        for (ConfigReloadResult r : moved.results()) {
            assertThat(r.succeeded()).as("%s", r).isTrue();
            assertThat(r.applied()).containsExactly("SqlSettings.DataSource", "SqlSettings.DataSourceReplicas");
            assertThat(r.restartRequired()).isEmpty();
            assertThat(r.configHashBefore()).isEqualTo(hashBefore);
            assertThat(r.configHashAfter()).isEqualTo(movedHash);
            assertThat(r.toString()).doesNotContain(replica.password());
        }
        assertThat(moved.nodes().keySet()).containsExactlyInAnyOrderElementsOf(nodes.stream().map(ClusterNode::id).toList());
        await().atMost(WAIT).until(() -> writers.stream().allMatch(w -> w.on(replica) >= 20));
        for (Writer w : writers) {
            w.stop();
        }

        for (ClusterNode n : nodes) {
            assertThat(n.database().orElseThrow().settings().master()).isEqualTo(Dsn.parse(replica.dsn()));
            assertThat(n.configHash()).isEqualTo(movedHash);
        }
        // Every node sees every node GREEN again with the same, new hash.
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> n.clusterInfos().stream()
                .allMatch(i -> i.status() == NodeStatus.GREEN && i.configHash().equals(movedHash))));

        System.out.printf("failover: promote + reloadConfigEverywhere took %d ms (stop of the old primary to"
                + " the reload's answer: %d ms)%n", TimeUnit.NANOSECONDS.toMillis(reloadedAt - reloadAt),
                TimeUnit.NANOSECONDS.toMillis(reloadedAt - stoppedAt));
        for (Writer w : writers) {
            System.out.printf("writer of node %d: %d writes on the old primary, %d on the promoted one; failed-write"
                            + " window %d ms (last write on the old primary to first on the new; %d ms of it after"
                            + " the promotion); %d failed writes by SQLState %s; writes refused by a standby (25006): %d%n",
                    w.rank, w.on(oldPrimary), w.on(replica),
                    TimeUnit.NANOSECONDS.toMillis(w.firstSuccessNanosOnNew - w.lastSuccessNanosOnOld),
                    TimeUnit.NANOSECONDS.toMillis(w.firstSuccessNanosOnNew - promotedAt),
                    w.failures(), w.failuresBySqlState, w.failuresBySqlState.getOrDefault(READ_ONLY_TRANSACTION,
                            new AtomicLong()).get());
        }
        for (Writer w : writers) {
            assertThat(w.writesOnAStandby.get()).as("writes that ran on a server in recovery").isZero();
            assertThat(w.failuresBySqlState).as("a write sent to a standby fails with 25006")
                    .doesNotContainKey(READ_ONLY_TRANSACTION);
            assertThat(w.successesByPort.keySet()).containsExactlyInAnyOrder(oldPrimary.port(), replica.port());
            assertThat(w.firstSuccessNanosOnNew).isGreaterThan(stoppedAt);
        }
        // Every acknowledged write is in the promoted server (the old primary's fast shutdown sent its
        // WAL to the replica first): nothing acknowledged was lost. A failed attempt is in doubt.
        try (Connection c = replica.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT n FROM writes WHERE node = ?")) {
            for (Writer w : writers) {
                ps.setInt(1, w.rank);
                java.util.Set<Long> rows = new java.util.HashSet<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(rs.getLong(1));
                    }
                }
                assertThat(rows).as("rows of writer %d", w.rank).containsAll(w.acknowledged);
                assertThat(rows.size()).isLessThanOrEqualTo(w.acknowledged.size() + (int) w.attemptsFailed.get());
            }
        }
        // The election follows the new master too: one leader, holding the lease there.
        await().atMost(WAIT).until(() -> nodes.stream().filter(ClusterNode::isLeader).count() == 1
                && nodes.stream().allMatch(n -> n.leader().isPresent()));

        // A change that needs a restart (GossipPort, the lease timing) beside a live one (QueryTimeout).
        int[] gossipPorts = nodes.stream().mapToInt(n -> n.gossipAddress().getPort()).toArray();
        for (int i = 0; i < 3; i++) {
            ClusterSettings moving = clusterSettings.get(i).toBuilder().gossipPort(TestPorts.tcpAndUdp()).build();
            rewrite(files.get(i), config(moving, replica.dsn(), List.of(), 20, 20_000));
        }
        ClusterWide<ConfigReloadResult> mixed = nodes.get(2).reloadConfigEverywhere(RELOAD_DEADLINE)
                .get(60, TimeUnit.SECONDS);
        System.out.println("reload with restart-only changes: " + summary(mixed));
        assertThat(mixed.allAnswered()).as("failures: %s", mixed.failures()).isTrue();
        String fileHash = HaConfig.load(files.get(0), Map.of()).hash();
        String mixedHash = mixed.results().get(0).configHashAfter();
        for (ConfigReloadResult r : mixed.results()) {
            assertThat(r.succeeded()).as("%s", r).isTrue();
            assertThat(r.applied()).containsExactly("SqlSettings.QueryTimeout");
            assertThat(r.restartRequired()).containsExactly("ClusterSettings.GossipPort", "JobSettings.LeaderLeaseMilliseconds");
            // The hash is of the configuration in force: with the new timeout, without the new lease timing.
            assertThat(r.configHashAfter()).isEqualTo(mixedHash).isNotEqualTo(movedHash).isNotEqualTo(fileHash);
        }
        for (int i = 0; i < 3; i++) {
            ClusterNode n = nodes.get(i);
            assertThat(n.gossipAddress().getPort()).as("gossip stays where it is").isEqualTo(gossipPorts[i]);
            assertThat(n.config().clusterSettings().gossipPort()).isEqualTo(gossipPorts[i]);
            assertThat(n.config().jobSettings().leaderLeaseMilliseconds()).isEqualTo(15_000);
            assertThat(n.database().orElseThrow().settings().queryTimeoutSeconds()).isEqualTo(20);
        }
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> n.clusterInfos().size() == 3
                && n.clusterInfos().stream().allMatch(i -> i.status() == NodeStatus.GREEN)));

        // Reloading the same file again reports the same restart-only settings, still not applied.
        ConfigReloadResult again = nodes.get(0).reloadConfig();
        assertThat(again.restartRequired()).containsExactly("ClusterSettings.GossipPort", "JobSettings.LeaderLeaseMilliseconds");
        assertThat(again.applied()).isEmpty();
        assertThat(again.configHashAfter()).isEqualTo(mixedHash);
    }
}
