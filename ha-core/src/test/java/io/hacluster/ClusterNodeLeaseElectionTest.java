package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.config.SqlSettings;
import io.hacluster.election.LeaderInfo;
import io.hacluster.election.LeaseSettings;
import io.hacluster.testkit.PostgresTopology;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bully winner and the lease in a real PostgreSQL server: the leader holds the lease, a
 * crashed leader's lease passes to the next lowest id once it expired, a lower id takes over with
 * a higher epoch and token, a holder whose renewals stall stops leading before its renew deadline,
 * and epochs grow across restarts.
 */
class ClusterNodeLeaseElectionTest {

    /** Short but with the default's proportions: the holder demotes itself halfway through the lease. */
    private static final LeaseSettings LEASE = new LeaseSettings(Duration.ofSeconds(6), Duration.ofSeconds(3),
            Duration.ofMillis(500));
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static PostgresTopology pg;
    private static SqlSettings sql;

    @TempDir
    Path dir;
    private ElectionNodes cluster;

    /** Lease row as the database sees it: holder (null when released or expired), token, epoch, remaining ms. */
    private record Row(String holder, long token, long epoch, long remainingMillis) {
    }

    @BeforeAll
    static void startPostgres() {
        pg = PostgresTopology.start(0);
        sql = SqlSettings.builder().dataSource(pg.primary().dsn()).maxOpenConns(4).maxIdleConns(2).build();
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @AfterEach
    void closeAll() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Row row(String clusterName) throws SQLException {
        try (Connection c = pg.primary().connect(); PreparedStatement st = c.prepareStatement(
                "SELECT CASE WHEN holder_id IS NOT NULL AND expires_at > clock_timestamp() THEN holder_id END, "
                        + "fencing_token, epoch, GREATEST(0, floor(extract(epoch FROM (expires_at - clock_timestamp()))"
                        + " * 1000))::bigint FROM ha_leader_lease WHERE cluster_name = ?")) {
            st.setString(1, clusterName);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? new Row(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)) : null;
            }
        }
    }

    @Test
    void theLeaderHoldsTheLeaseAndACrashedLeadersLeasePassesOnlyOnceExpired() throws Exception {
        cluster = new ElectionNodes(dir, sql, LEASE, 0).withHealthEndpoints();
        ClusterNode first = cluster.start(1, true);
        cluster.start(2, true);
        cluster.start(3, true);
        await().atMost(WAIT).until(() -> cluster.allAgree(first.id()));
        LeaderInfo before = first.leader().orElseThrow();
        Row held = row(cluster.cluster);
        assertThat(held.holder()).isEqualTo(first.id());
        assertThat(before.fencingToken()).isPositive().isEqualTo(held.token());
        assertThat(held.epoch()).isGreaterThanOrEqualTo(before.epoch());
        HttpClient http = HttpClient.newHttpClient();
        for (ClusterNode n : cluster.nodes) {  // every node reports the same leader on /cluster/status
            InetSocketAddress at = n.healthAddress().orElseThrow();
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + at.getPort() + "/api/v4/cluster/status")).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            JsonNode election = new ObjectMapper().readTree(response.body()).path("election");
            assertThat(election.path("leader").asText()).isEqualTo(first.id());
            assertThat(election.path("epoch").asLong()).isEqualTo(before.epoch());
            assertThat(election.path("fencingToken").asLong()).isEqualTo(before.fencingToken());
            assertThat(election.path("isLeader").asBoolean()).isEqualTo(n == first);
            JsonNode lease = election.path("lease");
            assertThat(lease.path("holder").asText()).isEqualTo(first.id());
            assertThat(lease.path("held").asBoolean()).isTrue();
            assertThat(lease.path("fencingToken").asLong()).isEqualTo(before.fencingToken());
            assertThat(lease.path("remainingMillis").asLong()).isPositive();
        }

        long haltedAt = System.nanoTime();
        first.haltForTests();
        long remaining = row(cluster.cluster).remainingMillis();
        cluster.nodes.remove(first);
        try {
            ClusterNode second = cluster.nodes.get(0);
            await("rank 2 holds the lease").atMost(Duration.ofMillis(remaining + 4000))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> second.id().equals(row(cluster.cluster).holder()));
            long tookMillis = (System.nanoTime() - haltedAt) / 1_000_000;
            assertThat(tookMillis).as("taken only after the crashed holder's lease expired")
                    .isGreaterThanOrEqualTo(remaining - 200);
            await().atMost(WAIT).until(() -> cluster.allAgree(second.id()));
            LeaderInfo after = second.leader().orElseThrow();
            assertThat(after.fencingToken()).isGreaterThan(before.fencingToken());
            assertThat(after.epoch()).isGreaterThan(before.epoch());
        } finally {
            first.close();
        }
    }

    @Test
    void aLowerIdThatJoinsTakesOverWithAHigherEpochAndToken() throws Exception {
        cluster = new ElectionNodes(dir, sql, LEASE, 0);
        ClusterNode old = cluster.start(4, true);
        cluster.start(6, true);
        await().atMost(WAIT).until(() -> cluster.allAgree(old.id()));
        LeaderInfo before = old.leader().orElseThrow();

        ClusterNode lower = cluster.start(2, true);
        await("rank 2 takes over").atMost(WAIT).until(() -> cluster.allAgree(lower.id()));
        LeaderInfo after = lower.leader().orElseThrow();
        assertThat(after.epoch()).isGreaterThan(before.epoch());
        assertThat(after.fencingToken()).isGreaterThan(before.fencingToken());
        assertThat(row(cluster.cluster).holder()).isEqualTo(lower.id());
        assertThat(old.isLeader()).isFalse();
    }

    @Test
    void aHolderWhoseRenewalsStallStopsLeadingBeforeItsRenewDeadline() throws Exception {
        cluster = new ElectionNodes(dir, sql, LEASE, 0);
        ClusterNode leader = cluster.start(1, true);
        ClusterNode follower = cluster.start(2, true);
        await().atMost(WAIT).until(() -> cluster.allAgree(leader.id()));
        long token = leader.leader().orElseThrow().fencingToken();
        List<long[]> demotions = new CopyOnWriteArrayList<>();  // nanoTime of each "lease lost" told
        leader.onLeaderChange(c -> {
            if (!c.local() && c.cause().equals("lease lost")) {
                demotions.add(new long[] {System.nanoTime()});
            }
        });

        try (Connection blocker = pg.primary().connect()) {
            blocker.setAutoCommit(false);
            try (PreparedStatement lock = blocker.prepareStatement(
                    "SELECT 1 FROM ha_leader_lease WHERE cluster_name = ? FOR UPDATE")) {
                lock.setString(1, cluster.cluster);
                lock.executeQuery().close();
            }
            // every renewal sent from now on waits for this lock: the last one that got through was sent earlier
            long lockedAt = System.nanoTime();
            long bound = lockedAt + LEASE.renewDeadline().toNanos() + Duration.ofMillis(250).toNanos();
            while (leader.isLeader() && System.nanoTime() < bound) {
                Thread.sleep(10);
            }
            long demotedAfterMillis = (System.nanoTime() - lockedAt) / 1_000_000;
            assertThat(leader.isLeader()).as("still leading %d ms after renewals stalled", demotedAfterMillis)
                    .isFalse();
            Row meanwhile = row(cluster.cluster);
            assertThat(meanwhile.holder()).as("the lease has not expired in the database yet").isEqualTo(leader.id());
            assertThat(meanwhile.remainingMillis()).isPositive();
            // the demoted node runs again: its follower stops showing it as leader
            await("the follower drops the demoted leader").atMost(Duration.ofSeconds(1))
                    .until(() -> follower.leader().isEmpty());
            // let the stuck renewal through well before its 5 s statement timeout and the lease's expiry
            blocker.rollback();
            await("listeners told").atMost(Duration.ofSeconds(2)).until(() -> !demotions.isEmpty());
            assertThat((demotions.get(0)[0] - lockedAt) / 1_000_000).as("told within the deadline plus a check")
                    .isLessThan(LEASE.renewDeadline().toMillis() + 500);
        }
        // renewals get through again: the same node leads again (with the same token if its lease
        // had not expired in the meantime, else a newer one)
        await().atMost(WAIT).until(() -> cluster.allAgree(leader.id()));
        assertThat(leader.leader().orElseThrow().fencingToken()).isGreaterThanOrEqualTo(token);
    }

    @Test
    void epochsGrowAcrossRestartsOfTheWholeCluster() throws Exception {
        String name = TestNodes.clusterName();
        cluster = new ElectionNodes(name, dir, sql, LEASE, 0);
        ClusterNode first = cluster.start(1, true);
        long epoch = first.awaitLeader(WAIT).orElseThrow().epoch();
        cluster.close();

        cluster = new ElectionNodes(name, dir, sql, LEASE, 0);
        ClusterNode again = cluster.start(1, true);
        assertThat(again.awaitLeader(WAIT).orElseThrow().epoch()).isGreaterThan(epoch);
    }
}
