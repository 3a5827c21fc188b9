package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.election.LeaderChange;
import io.hacluster.election.LeaderInfo;
import io.hacluster.election.LeaseSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bully rule without a database, on real in-JVM ClusterNodes: the lowest live id that may lead
 * is the leader, every node agrees, a graceful leave hands over fast, a lower id that joins takes
 * over with a higher epoch, and with a quorum a side too small has no leader.
 */
class ClusterNodeElectionTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private ElectionNodes cluster;

    @AfterEach
    void closeAll() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theLowestEligibleIdLeadsEverywhereAndANodeThatNeverSchedulesNeverLeads() throws Exception {
        cluster = new ElectionNodes(dir, null, LeaseSettings.defaults(), 0).withLanGossip();
        ClusterNode jobOnly = cluster.start(1, false);  // the lowest id, but RunScheduler false
        List<LeaderChange> jobOnlyChanges = new CopyOnWriteArrayList<>();
        jobOnly.onLeaderChange(jobOnlyChanges::add);
        for (int rank = 2; rank <= 5; rank++) {
            cluster.start(rank, true);
        }
        String expected = ElectionNodes.idOf(2);
        await("all agree on rank 2").atMost(WAIT).until(() -> cluster.allAgree(expected));
        assertThat(cluster.running().stream().filter(ClusterNode::isLeader)).hasSize(1);
        assertThat(jobOnly.awaitLeader(Duration.ofSeconds(1))).map(LeaderInfo::id).contains(expected);
        assertThat(jobOnly.isLeader()).isFalse();
        await("the job-only node's listener is told").atMost(WAIT).until(() -> !jobOnlyChanges.isEmpty());
        assertThat(jobOnlyChanges).noneMatch(LeaderChange::local);
        LeaderInfo before = cluster.nodes.get(1).leader().orElseThrow();
        assertThat(before.fencingToken()).as("no database, no token").isZero();

        // graceful close of the leader: the survivors agree on the next lowest eligible id quickly
        cluster.nodes.get(1).close();
        long closed = System.nanoTime();
        String next = ElectionNodes.idOf(3);
        try {
            await("survivors agree on rank 3").atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
                    .until(() -> cluster.allAgree(next));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no agreement on " + next + " 2 s after close():" + cluster.views(), e);
        }
        long tookMillis = (System.nanoTime() - closed) / 1_000_000;
        LeaderInfo after = cluster.nodes.get(2).leader().orElseThrow();
        assertThat(after.epoch()).isGreaterThan(before.epoch());
        assertThat(jobOnly.isLeader()).isFalse();
        assertThat(jobOnlyChanges).noneMatch(LeaderChange::local);
        assertThat(tookMillis).isLessThan(2000);
    }

    @Test
    void aLowerIdThatJoinsTakesOverWithAHigherEpoch() throws Exception {
        cluster = new ElectionNodes(dir, null, LeaseSettings.defaults(), 0).withLanGossip();
        cluster.start(5, true);
        cluster.start(7, true);
        cluster.start(9, true);
        await().atMost(WAIT).until(() -> cluster.allAgree(ElectionNodes.idOf(5)));
        LeaderInfo old = cluster.nodes.get(0).leader().orElseThrow();
        List<LeaderChange> seenByOld = new CopyOnWriteArrayList<>();
        cluster.nodes.get(0).onLeaderChange(seenByOld::add);

        ClusterNode lower = cluster.start(2, true);
        await("rank 2 takes over").atMost(WAIT).until(() -> cluster.allAgree(lower.id()));
        LeaderInfo taken = lower.leader().orElseThrow();
        assertThat(taken.epoch()).isGreaterThan(old.epoch());
        assertThat(cluster.nodes.get(0).isLeader()).isFalse();
        await().atMost(WAIT).until(() -> seenByOld.stream().anyMatch(c -> c.leader().map(LeaderInfo::id)
                .filter(lower.id()::equals).isPresent()));
        assertThat(seenByOld).noneMatch(LeaderChange::local);
    }

    @Test
    void withAQuorumASideTooSmallHasNoLeader() throws Exception {
        cluster = new ElectionNodes(dir, null, LeaseSettings.defaults(), 3).withLanGossip();
        cluster.start(1, true);
        cluster.start(2, true);
        assertThat(cluster.nodes.get(0).awaitLeader(Duration.ofSeconds(2))).as("2 of a quorum of 3").isEmpty();
        cluster.start(3, true);
        await().atMost(WAIT).until(() -> cluster.allAgree(ElectionNodes.idOf(1)));

        cluster.nodes.get(2).close();
        await("quorum lost").atMost(WAIT).until(() -> cluster.running().stream()
                .allMatch(n -> n.leader().isEmpty() && !n.isLeader()));
    }
}
