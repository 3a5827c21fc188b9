package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.config.JobSettings;
import io.hacluster.config.SqlSettings;
import io.hacluster.election.LeaseSettings;
import io.hacluster.jobs.Job;
import io.hacluster.jobs.JobHandler;
import io.hacluster.jobs.JobSchedule;
import io.hacluster.jobs.JobServerSettings;
import io.hacluster.jobs.JobStatus;
import io.hacluster.jobs.MisfirePolicy;
import io.hacluster.testkit.PostgresTopology;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job server through ClusterNode, with the real election and lease: a 1 s periodic job keeps
 * one row and one run per slot while the leader changes ten times (crash, graceful leave and
 * partition of the leader, and the lower id's takeover when it comes back or the split heals).
 */
class ClusterNodeJobsTest {

    private static final LeaseSettings LEASE = new LeaseSettings(Duration.ofSeconds(3), Duration.ofMillis(1500),
            Duration.ofMillis(300));
    private static final JobServerSettings JOBS = JobServerSettings.defaults()
            .withPolling(Duration.ofMillis(50), Duration.ofMillis(100))
            .withAbandonedAfter(Duration.ofSeconds(1))
            .withRetries(3, Duration.ofMillis(100), Duration.ofSeconds(1))
            .withDrainTimeout(Duration.ofSeconds(2));
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration INTERVAL = Duration.ofSeconds(1);

    private static PostgresTopology pg;
    private static SqlSettings sql;

    @TempDir
    Path dir;
    private final String cluster = TestNodes.clusterName();
    private final Map<Integer, ClusterNode> nodes = new TreeMap<>();
    private final List<ClusterNode> all = new ArrayList<>();
    /** Gossip and streaming port of each rank: a restarted node comes back on its ports, as a server does. */
    private final Map<Integer, int[]> ports = new TreeMap<>();
    private String seed;
    private boolean health;

    @BeforeAll
    static void startPostgres() throws SQLException {
        pg = PostgresTopology.start(0);
        sql = SqlSettings.builder().dataSource(pg.primary().dsn()).maxOpenConns(6).maxIdleConns(2).build();
        try (Connection c = pg.primary().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE ran (cluster_name TEXT NOT NULL, slot TIMESTAMPTZ NOT NULL, job_id TEXT NOT NULL, "
                    + "node TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())");
        }
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @AfterEach
    void closeAll() {
        all.forEach(ClusterNode::close);
    }

    private ClusterNode start(int rank) {
        Path idFile = dir.resolve("node-" + rank + ".id");
        try {
            Files.writeString(idFile, ElectionNodes.idOf(rank) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int[] p = ports.computeIfAbsent(rank, r -> new int[] {TestPorts.tcpAndUdp(), TestPorts.tcpAndUdp()});
        ClusterNode n = ClusterNode.builder()
                .clusterSettings(TestNodes.settings(cluster, seed == null ? List.of() : List.of(seed))
                        .gossipPort(p[0]).streamingPort(p[1]).healthPort(health ? TestPorts.tcpAndUdp() : 0)
                        .nodeIdFile(idFile.toString()).build())
                .sqlSettings(sql)
                .jobSettings(JobSettings.defaults())
                .leaseSettings(LEASE)
                .electionQuorum(2)  // a leader cut off from the others steps down: partitions change the leader too
                .jobServerSettings(JOBS)
                .joinTimeout(Duration.ofSeconds(10))
                .leaveTimeout(Duration.ofSeconds(3))
                .build();
        n.start();
        n.jobs().registerPeriodicJob("tick", JobSchedule.every(INTERVAL), MisfirePolicy.RUN_ALL, recordRun(n));
        nodes.put(rank, n);
        all.add(n);
        if (seed == null) {
            seed = "127.0.0.1:" + n.gossipAddress().getPort();
        }
        return n;
    }

    /** Records the run, fenced by the claim, in the same transaction. */
    private JobHandler recordRun(ClusterNode n) {
        String clusterName = cluster;
        return ctx -> {
            try (Connection c = pg.primary().connect()) {
                c.setAutoCommit(false);
                if (!ctx.holdsClaim(c)) {
                    c.rollback();
                    return;
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO ran (cluster_name, slot, job_id, node) "
                        + "VALUES (?, ?, ?, ?)")) {
                    ps.setString(1, clusterName);
                    ps.setObject(2, OffsetDateTime.ofInstant(ctx.job().slot().orElseThrow(), java.time.ZoneOffset.UTC));
                    ps.setString(3, ctx.job().id());
                    ps.setString(4, n.id());
                    ps.executeUpdate();
                }
                c.commit();
            }
        };
    }

    /** Waits until every running node agrees that {@code rank} leads and it holds the lease. */
    private void awaitLeader(int rank) {
        awaitLeaderAmong(rank, nodes.values());
    }

    /** As {@link #awaitLeader(int)}, among {@code group} only (one side of a partition). */
    private void awaitLeaderAmong(int rank, java.util.Collection<ClusterNode> group) {
        String expected = ElectionNodes.idOf(rank);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> group.stream()
                .allMatch(n -> n.leader().map(l -> l.id().equals(expected)).orElse(false)
                        && n.isLeader() == n.id().equals(expected)));
    }

    @Test
    void aOneSecondPeriodicJobKeepsOneRowAndOneRunPerSlotAcrossTenLeaderChanges() throws Exception {
        start(1);
        start(2);
        start(3);
        awaitLeader(1);
        List<Long> failoverMillis = new ArrayList<>();
        int changes = 0;
        String[] kinds = {"crash", "leave", "partition", "crash", "partition"};
        for (String kind : kinds) {
            long removed = System.nanoTime();
            ClusterNode leader = nodes.get(1);
            List<ClusterNode> others = List.of(nodes.get(2), nodes.get(3));
            switch (kind) {
                case "crash" -> leader.haltForTests();  // as kill -9: no leave, the lease is not released
                case "leave" -> leader.close();  // graceful: the lease is handed over at once
                default -> Partitions.split(List.of(leader), others);  // alone, it has no quorum
            }
            if (!kind.equals("partition")) {
                nodes.remove(1);
            }
            awaitLeaderAmong(2, others);
            failoverMillis.add((System.nanoTime() - removed) / 1_000_000);
            changes++;
            Thread.sleep(1500);  // a slot or two under the second leader
            long back = System.nanoTime();
            if (kind.equals("partition")) {
                Partitions.heal(nodes.values());
            } else {
                start(1);  // the lower id comes back and takes over
            }
            awaitLeader(1);
            failoverMillis.add((System.nanoTime() - back) / 1_000_000);
            changes++;
            Thread.sleep(1000);
        }
        assertThat(changes).isEqualTo(10);
        Instant end = dbNow();
        // every slot up to the end is created already (one ahead); wait until they have run
        await().atMost(WAIT).until(() -> count("SELECT count(*) FROM ha_jobs WHERE cluster_name = '" + cluster
                + "' AND slot <= '" + end + "' AND status <> 'success'") == 0);

        List<Instant> slots = instants("SELECT slot FROM ha_jobs WHERE cluster_name = '" + cluster + "' AND slot <= '"
                + end + "' ORDER BY slot");
        assertThat(slots).isNotEmpty().doesNotHaveDuplicates();
        for (int i = 1; i < slots.size(); i++) {
            assertThat(Duration.between(slots.get(i - 1), slots.get(i))).as("no slot missing before %s", slots.get(i))
                    .isEqualTo(INTERVAL);
        }
        assertThat(count("SELECT count(*) FROM ran WHERE cluster_name = '" + cluster + "' AND slot <= '" + end + "'"))
                .as("one run per slot").isEqualTo(slots.size());
        assertThat(count("SELECT count(DISTINCT slot) FROM ran WHERE cluster_name = '" + cluster + "' AND slot <= '"
                + end + "'")).isEqualTo(slots.size());
        List<Instant> runs = instants("SELECT at FROM ran WHERE cluster_name = '" + cluster + "' AND slot <= '" + end
                + "' ORDER BY at");
        long maxGap = 0;
        for (int i = 1; i < runs.size(); i++) {
            maxGap = Math.max(maxGap, Duration.between(runs.get(i - 1), runs.get(i)).toMillis());
        }
        long maxFailover = failoverMillis.stream().mapToLong(Long::longValue).max().orElseThrow();
        System.out.printf("periodic 1 s job, %d leader changes: %d slots, one row and one run each; longest gap "
                + "between runs %d ms; failovers (ms) %s%n", changes, slots.size(), maxGap, failoverMillis);
        // the poll's 50 ms and a statement's latency on top of interval + failover
        assertThat(maxGap).as("longest gap between runs, ms").isLessThanOrEqualTo(INTERVAL.toMillis() + maxFailover + 500);
    }

    @Test
    void oneOffJobsSubmittedOnOneNodeRunOnAnotherAndTheJobApiNeedsADatabase() throws Exception {
        health = true;
        ClusterNode a = start(1);
        ClusterNode b = start(2);
        awaitLeader(1);
        b.jobs().registerJobHandler("greet", 1, ctx -> ctx.putData("by", b.id()));
        Job job = a.jobs().submitJob("greet", Map.of("to", "world"));
        await().atMost(WAIT).until(() -> a.jobs().job(job.id()).orElseThrow().status() == JobStatus.SUCCESS);
        Job done = a.jobs().job(job.id()).orElseThrow();
        assertThat(done.data()).containsEntry("by", b.id()).containsEntry("to", "world");
        assertThat(done.workerId()).contains(b.id());
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpResponse<String> listed = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                "http://127.0.0.1:" + a.healthAddress().orElseThrow().getPort() + "/api/v4/jobs?type=greet&status=success"))
                .timeout(WAIT).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(listed.statusCode()).isEqualTo(200);
        com.fasterxml.jackson.databind.JsonNode body = new com.fasterxml.jackson.databind.ObjectMapper().readTree(listed.body());
        assertThat(body.size()).isEqualTo(1);
        assertThat(body.get(0).path("id").asText()).isEqualTo(job.id());
        assertThat(body.get(0).path("status").asText()).isEqualTo("success");
        assertThat(body.get(0).path("data").path("by").asText()).isEqualTo(b.id());
        assertThat(body.get(0).path("create_at").asLong()).isPositive();

        ClusterNode noDb = ClusterNode.builder().clusterSettings(TestNodes.settings(TestNodes.clusterName(), List.of())
                .build()).build();
        all.add(noDb);
        assertThatThrownBy(noDb::jobs).hasMessageContaining("start it first");
        noDb.start();
        assertThatThrownBy(noDb::jobs).hasMessageContaining("needs a database");
    }

    private static Instant dbNow() throws SQLException {
        return instants("SELECT clock_timestamp()").get(0);
    }

    private static List<Instant> instants(String sql) throws SQLException {
        List<Instant> out = new ArrayList<>();
        try (Connection c = pg.primary().connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getObject(1, OffsetDateTime.class).toInstant());
            }
        }
        return out;
    }

    private static int count(String sql) throws SQLException {
        try (Connection c = pg.primary().connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
