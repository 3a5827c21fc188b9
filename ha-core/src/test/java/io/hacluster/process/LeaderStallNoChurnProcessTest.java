package io.hacluster.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.hacluster.election.LeaseSettings;
import io.hacluster.gossip.GossipConfig;
import io.hacluster.testkit.PostgresTopology;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No churn under process stalls: the leader's JVM (one of three child JVMs electing with the
 * lease in a real PostgreSQL primary, gossip's {@code lan} preset) is frozen with SIGSTOP for 2 s,
 * resumed with SIGCONT, and this repeats for the whole run. No node may see a leader change
 * (counted from the children's {@code onLeaderChange} reports), and the lease row keeps its holder
 * and fencing token throughout.
 *
 * <p>Why 2 s is survivable with these settings, and must be:
 * <ul>
 *   <li><b>Lease</b> 8 s / renew deadline 5 s / retry 0.5 s. The last renewal before a stall was
 *       sent at most a retry period (plus a statement) before it, so the holder's own deadline
 *       (5 s on its monotonic clock, which runs on during SIGSTOP) has at least 5 - 0.5 - 2 =
 *       2.5 s left when it resumes and renews at once: it never demotes itself. And 2 s is shorter
 *       than lease - renew deadline (3 s), so even a holder that renewed late would still be
 *       inside its lease in the database.
 *   <li><b>Gossip</b> ({@code lan}, 3 members): a survivor can suspect the frozen node one probe
 *       interval (1 s) into the stall at the earliest, and declares it dead only when the
 *       suspicion timer (4 s, no confirmations expected with 3 members) runs out unrefuted, 5 s
 *       into the stall at the earliest. The node resumes after 2 s, reads the suspicion that was
 *       gossiped to it meanwhile and refutes it with 3 s to spare. A suspect member stays live for
 *       the election. (With {@code local} the bound is 4 s, also enough; {@code lan} is what the
 *       other election tests use on this loaded machine, as {@code local}'s 200 ms probe timeout
 *       gave false suspicions there.)
 * </ul>
 * Between stalls the leader runs 4 s: longer than a refutation takes to spread, so no suspicion
 * of one stall is still running when the next begins.
 *
 * <p>Duration: {@code -Dnochurn.seconds} (default 40). The five minutes:
 * <pre>
 * mvn -B -o -pl ha-core -am test -Dtest=LeaderStallNoChurnProcessTest -Dsurefire.failIfNoSpecifiedTests=false -Dnochurn.seconds=300
 * </pre>
 */
class LeaderStallNoChurnProcessTest {

    private static final String PRESET = "lan";
    private static final LeaseSettings LEASE = new LeaseSettings(Duration.ofSeconds(8), Duration.ofSeconds(5),
            Duration.ofMillis(500));
    private static final Duration STALL = Duration.ofSeconds(2);
    private static final Duration RUN_BETWEEN = Duration.ofSeconds(4);
    private static final Duration SETTLE = Duration.ofSeconds(60);

    private static PostgresTopology pg;

    @TempDir
    Path dir;

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

    @Test
    void stallingTheLeaderForTwoSecondsAgainAndAgainChangesNoLeader() throws Exception {
        // the settings must make the stall survivable, as the Javadoc argues
        GossipConfig g = GossipConfig.preset(PRESET, "check");
        Duration suspicionToDead = g.probeInterval().multipliedBy(g.suspicionMult());  // 3 members: log10 factor 1, k = 0
        assertThat(STALL).isLessThan(g.probeInterval().plus(suspicionToDead));
        assertThat(STALL).isLessThan(suspicionToDead);
        assertThat(STALL.plus(LEASE.retryPeriod())).isLessThan(LEASE.renewDeadline());
        assertThat(STALL).isLessThan(LEASE.leaseDuration().minus(LEASE.renewDeadline()));

        long seconds = Long.getLong("nochurn.seconds", 40);
        assertThat(seconds).as("nochurn.seconds").isPositive();
        try (LeaseChildren c = new LeaseChildren(dir, pg.primary(), PRESET, LEASE);
             Connection db = pg.primary().connect()) {
            ChildNode leader = c.start(1);
            ChildNode mid = c.start(2);
            ChildNode high = c.start(3);
            List<ChildNode> all = List.of(leader, mid, high);
            String[] agreed = c.awaitAgreement(all, leader, 1, db, SETTLE);
            long token = Long.parseLong(agreed[4]);
            String epoch = agreed[3];
            // every node reported its view of the first leader; nothing may be reported after this
            for (ChildNode n : all) {
                n.await(l -> l.startsWith("L " + LeaseChildren.idOf(1) + " " + epoch + " "), Duration.ofSeconds(10),
                        "first leader reported");
            }
            Thread.sleep(500);  // a late listener call of the start would show up here, not as churn
            int[] marks = all.stream().mapToInt(ChildNode::mark).toArray();

            long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            int stalls = 0;
            int rowReads = 0;
            List<String> rowProblems = new ArrayList<>();
            System.out.printf("stalling the leader (pid %d) %d ms every %d ms for %d s%n", leader.pid(),
                    STALL.toMillis(), STALL.plus(RUN_BETWEEN).toMillis(), seconds);
            try {
                while (System.nanoTime() < end) {
                    leader.signal("STOP");
                    stalls++;
                    long resumeAt = System.nanoTime() + STALL.toNanos();
                    boolean stopped = false;
                    while (System.nanoTime() < resumeAt) {
                        stopped |= leader.procState() == 'T';
                        rowReads += checkRow(c, db, token, rowProblems);
                        Thread.sleep(200);
                    }
                    leader.signal("CONT");
                    assertThat(stopped).as("stall %d: the leader's process was seen stopped", stalls).isTrue();
                    long runUntil = Math.min(end, System.nanoTime() + RUN_BETWEEN.toNanos());
                    while (System.nanoTime() < runUntil) {
                        rowReads += checkRow(c, db, token, rowProblems);
                        Thread.sleep(200);
                    }
                    assertThat(rowProblems).as("lease row after stall %d", stalls).isEmpty();
                }
            } finally {
                if (leader.isAlive()) {
                    leader.signal("CONT");  // never leave it frozen, whatever failed
                }
            }
            Thread.sleep(RUN_BETWEEN.toMillis());  // what the last stall might still cause shows up now

            long suspects = 0;
            for (int i = 0; i < all.size(); i++) {
                ChildNode n = all.get(i);
                List<String> later = n.since(marks[i]);
                assertThat(later).as("%s: leader changes during %d stalls", n.name, stalls)
                        .noneMatch(l -> l.startsWith("L "));
                assertThat(later).as("%s: nobody declared dead", n.name)
                        .noneMatch(l -> l.startsWith("M ") && (l.contains(" DEAD ") || l.contains(" LEFT ")));
                suspects += later.stream().filter(l -> l.startsWith("M ") && l.contains(" SUSPECT ")).count();
            }
            rowReads += checkRow(c, db, token, rowProblems);
            assertThat(rowProblems).isEmpty();
            String[] still = c.awaitAgreement(all, leader, 1, db, Duration.ofSeconds(10));
            assertThat(still[3]).as("epoch").isEqualTo(epoch);
            assertThat(Long.parseLong(still[4])).as("token").isEqualTo(token);
            System.out.printf("%d stalls of %d ms over %d s: 0 leader changes, %d SUSPECT reports (refuted), "
                    + "%d lease row reads all with holder %s and token %d%n", stalls, STALL.toMillis(), seconds,
                    suspects, rowReads, LeaseChildren.idOf(1), token);
            assertThat(stalls).isPositive();
        }
    }

    /** Reads the row once; a holder other than rank 1 or another token is a problem. Returns 1. */
    private static int checkRow(LeaseChildren c, Connection db, long token, List<String> problems) throws Exception {
        LeaseChildren.Row r = c.row(db);
        if (r == null || !LeaseChildren.idOf(1).equals(r.holder()) || r.token() != token) {
            problems.add(String.valueOf(r));
        }
        return 1;
    }
}
