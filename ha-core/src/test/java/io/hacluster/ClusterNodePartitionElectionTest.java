package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.election.LeaderInfo;
import io.hacluster.election.LeaseSettings;
import io.hacluster.testkit.PostgresTopology;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9's partition must-show, on real PostgreSQL: five nodes split into the lowest two and the
 * other three, both sides still reaching the database. The lease stays with its holder on the
 * smaller side while the other side's would-be leader keeps trying (and pushes the persisted
 * epoch up); no node of that side ever leads, no fenced write with an old token is ever accepted,
 * no two nodes lead at one instant; after the heal all five agree on one leader, above every
 * epoch either side reached.
 */
class ClusterNodePartitionElectionTest {

    /** Short for test speed; renew deadline two thirds of the lease, as the defaults. */
    private static final LeaseSettings LEASE = new LeaseSettings(Duration.ofSeconds(3), Duration.ofSeconds(2),
            Duration.ofMillis(400));
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static PostgresTopology pg;

    @TempDir
    Path dir;
    private LeaseNodes nodes;
    private ElectionObserver observer;

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
        if (observer != null) {
            observer.close();
        }
        if (nodes != null) {
            nodes.close();
        }
    }

    private static Set<String> live(ClusterNode n) {
        return n.members().stream().filter(m -> m.state().isLive()).map(ClusterMember::id).collect(Collectors.toSet());
    }

    private static Set<String> ids(List<ClusterNode> group) {
        return group.stream().map(ClusterNode::id).collect(Collectors.toSet());
    }

    @Test
    void theLeaseStaysWithItsHolderAcrossAPartitionAndTheHealElectsOneLeaderAboveBothSides() throws Exception {
        nodes = new LeaseNodes(dir, LEASE, 5, rank -> pg.primary().dsn());
        for (int rank = 1; rank <= 5; rank++) {
            nodes.start(rank);
        }
        ClusterNode first = nodes.node(1);
        await("one leader, the lowest id").atMost(WAIT).pollInterval(Duration.ofMillis(50))
                .until(() -> nodes.membershipConverged()
                        && nodes.agreedLeader().map(l -> l.id().equals(first.id())).orElse(false));
        LeaderInfo before = first.leader().orElseThrow();

        observer = new ElectionObserver(nodes, () -> pg.primary().connect(), "fenced_partition", Duration.ofSeconds(120));
        observer.start();
        await("the leader's fenced writes go through").atMost(WAIT)
                .until(() -> observer.acceptedInCommitOrder().size() >= 3);

        List<ClusterNode> low = List.of(nodes.node(1), nodes.node(2));
        List<ClusterNode> high = List.of(nodes.node(3), nodes.node(4), nodes.node(5));
        long splitAt = System.nanoTime();
        Partitions.split(low, high);
        await("each side sees only itself").atMost(WAIT).pollInterval(Duration.ofMillis(50))
                .until(() -> low.stream().allMatch(n -> live(n).equals(ids(low)))
                        && high.stream().allMatch(n -> live(n).equals(ids(high))));
        // the other side's lowest id runs and tries the lease: acquire persists its higher epoch
        await("the side without the lease contends for it").atMost(WAIT).pollInterval(Duration.ofMillis(50))
                .until(() -> observer.rowSamples.stream().anyMatch(r -> r.epoch() > before.epoch()));
        // hold the split for longer than a lease: a holder that failed to renew would lose it now
        Thread.sleep(LEASE.leaseDuration().plusSeconds(1).toMillis());
        for (ClusterNode n : high) {
            assertThat(n.leader()).as("%s shows no leader on the side without the lease", n.id()).isEmpty();
        }
        long healAt = System.nanoTime();

        long highestDuring = before.epoch();
        for (ElectionObserver.RowSample r : observer.rowSamples) {
            if (r.atNanos() >= splitAt && r.atNanos() <= healAt) {
                highestDuring = Math.max(highestDuring, r.epoch());
            }
        }
        for (ElectionObserver.LeaderSample s : observer.leaderSamples) {
            if (s.atNanos() >= splitAt && s.atNanos() <= healAt) {
                for (LeaderInfo l : s.leaders().values()) {
                    highestDuring = Math.max(highestDuring, l.epoch());
                }
            }
        }

        Partitions.heal(nodes.running());
        await("all five agree on one leader again").atMost(WAIT).pollInterval(Duration.ofMillis(50))
                .until(() -> nodes.membershipConverged() && nodes.agreedLeader().isPresent());
        LeaderInfo after = nodes.agreedLeader().orElseThrow();
        await("the leader writes again after the heal").atMost(WAIT)
                .until(() -> observer.acceptedInCommitOrder().stream().anyMatch(a -> a.atNanos() > healAt));
        observer.close();

        assertThat(observer.violations()).as("invariants").isEmpty();
        assertThat(observer.validLeaderSamples()).as("instants sampled").hasSizeGreaterThan(100);

        List<ElectionObserver.RowSample> rowsDuring = observer.rowSamples.stream()
                .filter(r -> r.atNanos() >= splitAt && r.atNanos() <= healAt).toList();
        assertThat(rowsDuring).as("lease rows sampled during the split").hasSizeGreaterThan(20);
        assertThat(rowsDuring).as("the holder renewed throughout: same holder, same token")
                .allSatisfy(r -> {
                    assertThat(r.holder()).isEqualTo(first.id());
                    assertThat(r.token()).isEqualTo(before.fencingToken());
                });
        assertThat(observer.leaderSamples.stream().filter(s -> s.atNanos() >= splitAt && s.atNanos() <= healAt)
                .flatMap(s -> s.leading().stream()).collect(Collectors.toSet()))
                .as("only the holder ever led during the split").containsOnly(first.id());
        assertThat(observer.acceptedInCommitOrder().stream()
                .filter(a -> a.atNanos() >= splitAt && a.atNanos() <= healAt).map(ElectionObserver.Attempt::writer)
                .collect(Collectors.toSet())).as("accepted writes during the split").containsOnly(first.id());

        assertThat(after.id()).as("the lowest id, which kept the lease").isEqualTo(first.id());
        assertThat(after.fencingToken()).as("the lease never changed hands").isEqualTo(before.fencingToken());
        assertThat(after.epoch()).as("above every epoch either side reached during the split")
                .isGreaterThan(highestDuring);
    }
}
