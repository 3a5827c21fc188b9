package io.hacluster.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.hacluster.election.LeaseSettings;
import io.hacluster.testkit.PostgresTopology;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader as a real process, electing with the lease in a real PostgreSQL primary, one child
 * JVM per node (three nodes, gossip's {@code lan} preset): killed with SIGKILL (no leave, no
 * release, no shutdown hook), and stopped with SIGTERM (its shutdown hook closes it: release,
 * RESIGN, leave), then restarted with the same node id file.
 *
 * <p><b>The bounds.</b> A survivor can take over only once (1) gossip has declared the crashed
 * leader dead and (2) the crashed holder's lease has expired in the database: the new leader
 * takes the lease before it sends its COORDINATOR. So the promise is {@code max(detection,
 * remaining lease) + 1 s}, where the second is the lease the row still had at the kill (read from
 * the database) and the first is gossip's failure detection time. For three members with
 * {@code lan} (probe interval 1 s, suspicion multiplier 4, no confirmations expected since
 * {@code n - 2 < suspicionMult - 2}) that is at most {@code (2n - 3 + 1) * 1 s + 4 s = 8 s}
 * (docs/operations-gossip.md, "The formula"), and at least {@code 1 s + 4 s = 5 s}. Two lease
 * settings put each term in charge:
 *
 * <ul>
 *   <li>a lease of 4 s, shorter than the earliest detection: it has always expired when gossip
 *       declares the leader dead, so every survivor must agree on the next lowest id within the
 *       detection time + 1 s ({@link LeaseChildren#detectionBound});
 *   <li>a lease of 12 s, longer than the latest detection: the new leader must hold the lease
 *       within the remaining lease + 1 s, and never before the crashed holder's lease expired.
 * </ul>
 *
 * Both runs check both bounds in their general form. The 1 s margin covers the election after
 * the detection (ELECTION, the 250 ms ANSWER wait, one acquire, the COORDINATOR), the acquire
 * retry granularity (at most the lease's remaining time + 50 ms, every retry period) and the
 * harness reading the children's lines on a loaded machine.
 */
class LeaderKillWithLeaseProcessTest {

    private static final String PRESET = "lan";
    private static final int NODES = 3;
    /** Expires before gossip can declare a crash (earliest 5 s with lan, 3 nodes). */
    private static final LeaseSettings SHORT = new LeaseSettings(Duration.ofSeconds(4), Duration.ofSeconds(3),
            Duration.ofMillis(500));
    /** Outlasts gossip's latest detection (8 s with lan, 3 nodes). */
    private static final LeaseSettings LONG = new LeaseSettings(Duration.ofSeconds(12), Duration.ofSeconds(6),
            Duration.ofMillis(500));
    private static final Duration MARGIN = Duration.ofSeconds(1);
    /** Not a protocol bound: how long a joining JVM may take on a loaded machine. */
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
    void withALeaseShorterThanDetectionSurvivorsAgreeWithinTheDetectionTimePlusOneSecond() throws Exception {
        LeaseChildren probe = new LeaseChildren(dir, pg.primary(), PRESET, SHORT);
        assertThat(SHORT.leaseDuration()).isLessThan(probe.earliestDetection(NODES));
        killTheLeader(SHORT);
    }

    @Test
    void withALeaseLongerThanDetectionTheNextLowestHoldsTheLeaseWithinTheRemainingLeasePlusOneSecond()
            throws Exception {
        LeaseChildren probe = new LeaseChildren(dir, pg.primary(), PRESET, LONG);
        assertThat(LONG.leaseDuration().minus(LONG.retryPeriod())).isGreaterThan(probe.detectionBound(NODES));
        killTheLeader(LONG);
    }

    private void killTheLeader(LeaseSettings lease) throws Exception {
        try (LeaseChildren c = new LeaseChildren(dir, pg.primary(), PRESET, lease);
             Connection db = pg.primary().connect()) {
            ChildNode low = c.start(1);
            ChildNode mid = c.start(2);
            ChildNode high = c.start(3);
            String[] before = c.awaitAgreement(List.of(low, mid, high), low, 1, db, SETTLE);
            long epoch = Long.parseLong(before[3]);
            long token = Long.parseLong(before[4]);
            Duration detection = c.detectionBound(NODES);

            LeaseChildren.Row atKill = c.row(db);  // right before the kill
            int midMark = mid.mark();
            int highMark = high.mark();
            long killedAt = System.nanoTime();
            low.kill();
            assertThat(low.awaitExit(Duration.ofSeconds(10))).isTrue();
            // A renewal in flight at the kill may still commit: the row read once the process is
            // gone has the final expiry. expiresAt is on this test's clock, from the database's
            // remaining milliseconds; not earlier than the truth by more than the read's duration.
            long readAt = System.nanoTime();
            LeaseChildren.Row dead = c.row(db);
            assertThat(dead.holder()).as("the crashed leader still holds the lease: no release").isEqualTo(
                    LeaseChildren.idOf(1));
            long expiresAt = readAt + dead.remainingMillis() * 1_000_000;
            long remainingMillis = Math.max(atKill.remainingMillis(), (expiresAt - killedAt) / 1_000_000);

            // poll the row until rank 2 holds the lease, bounded by the general promise
            long bound = killedAt + Math.max(detection.toNanos(), remainingMillis * 1_000_000) + MARGIN.toNanos();
            long takenAt = -1;
            LeaseChildren.Row taken = null;
            while (System.nanoTime() < bound + Duration.ofSeconds(5).toNanos()) {  // 5 s more only to report by how much
                LeaseChildren.Row r = c.row(db);
                if (r != null && LeaseChildren.idOf(2).equals(r.holder())) {
                    takenAt = System.nanoTime();
                    taken = r;
                    break;
                }
                Thread.sleep(20);
            }
            long midSawDead = mid.arrivalOf(l -> l.startsWith("M " + LeaseChildren.idOf(1) + " DEAD")).orElse(-1);
            String report = String.format("lease %s: remaining at the kill %d ms (read before: %d ms), detection bound"
                            + " %d ms, rank 2 saw rank 1 DEAD after %d ms, held the lease after %d ms",
                    lease, remainingMillis, atKill.remainingMillis(), detection.toMillis(),
                    midSawDead < 0 ? -1 : (midSawDead - killedAt) / 1_000_000,
                    takenAt < 0 ? -1 : (takenAt - killedAt) / 1_000_000);
            System.out.println(report);
            assertThat(takenAt).as("rank 2 never took the lease: %s; %s", report, mid.tail()).isPositive();
            assertThat(midSawDead).as("rank 2 took the lease without seeing the leader dead: %s", report).isPositive();
            // (b) within the remaining lease + 1 s, or the detection + 1 s when gossip is later
            assertThat(takenAt).as("rank 2 holds the lease by max(its detection, remaining) + 1 s: %s", report)
                    .isLessThanOrEqualTo(Math.max(midSawDead, killedAt + remainingMillis * 1_000_000) + MARGIN.toNanos());
            assertThat(takenAt).as("not before the crashed holder's lease expired: %s", report)
                    .isGreaterThanOrEqualTo(expiresAt - Duration.ofMillis(100).toNanos());
            assertThat(taken.token()).isGreaterThan(token);
            assertThat(taken.epoch()).isGreaterThan(epoch);

            // (a) every survivor agrees on rank 2, within max(detection bound, remaining) + 1 s of the kill
            String leads = "L " + LeaseChildren.idOf(2) + " ";
            long midAgreed = mid.awaitArrival(midMark, l -> l.startsWith(leads) && l.contains(" true "),
                    Duration.ofNanos(Math.max(1, bound - System.nanoTime()) + Duration.ofSeconds(5).toNanos()), "rank 2 leads");
            long highAgreed = high.awaitArrival(highMark, l -> l.startsWith(leads),
                    Duration.ofNanos(Math.max(1, bound - System.nanoTime()) + Duration.ofSeconds(5).toNanos()), "rank 2 leader");
            long agreed = Math.max(midAgreed, highAgreed);
            System.out.printf("every survivor agreed on rank 2 after %d ms (bound %d ms)%n",
                    (agreed - killedAt) / 1_000_000, (bound - killedAt) / 1_000_000);
            assertThat(agreed).as("agreement %d ms after the kill; %s", (agreed - killedAt) / 1_000_000, report)
                    .isLessThanOrEqualTo(bound);
            String[] after = c.awaitAgreement(List.of(mid, high), mid, 2, db, Duration.ofSeconds(10));
            assertThat(Long.parseLong(after[3])).isGreaterThan(epoch);
            assertThat(Long.parseLong(after[4])).isEqualTo(taken.token());
            assertThat(high.since(highMark)).as("the survivor that does not lead never reports itself leading")
                    .noneMatch(l -> l.startsWith("L ") && l.split(" ")[3].equals("true"));
            assertThat(high.since(highMark)).as("high reports the crash as the cause")
                    .anyMatch(l -> l.startsWith(leads) && l.contains(" crash "));
        }
    }

    /**
     * SIGTERM of the leader: its shutdown hook's close() releases the lease and sends RESIGN
     * before it leaves gossip, so rank 2 holds the lease and every survivor shows it within 2 s
     * of the signal, although the 12 s lease has not expired. Then rank 1 is started again (a new
     * JVM, the same node id file and ports): it takes over with a higher epoch and a newer token.
     */
    @Test
    void aGracefulLeaveHandsOverWithinTwoSecondsAndTheRestartedLowerIdTakesOver() throws Exception {
        Duration handover = Duration.ofSeconds(2);
        try (LeaseChildren c = new LeaseChildren(dir, pg.primary(), PRESET, LONG);
             Connection db = pg.primary().connect()) {
            ChildNode low = c.start(1);
            ChildNode mid = c.start(2);
            ChildNode high = c.start(3);
            String[] first = c.awaitAgreement(List.of(low, mid, high), low, 1, db, SETTLE);

            int midMark = mid.mark();
            int highMark = high.mark();
            long sigterm = System.nanoTime();
            low.terminate();
            long deadline = sigterm + handover.toNanos();
            long takenAt = -1;
            LeaseChildren.Row taken = null;
            while (System.nanoTime() < deadline + Duration.ofSeconds(15).toNanos()) {  // beyond 2 s only to report
                LeaseChildren.Row r = c.row(db);
                if (r != null && LeaseChildren.idOf(2).equals(r.holder())) {
                    takenAt = System.nanoTime();
                    taken = r;
                    break;
                }
                Thread.sleep(20);
            }
            assertThat(takenAt).as("rank 2 never took the lease; %s", mid.tail()).isPositive();
            String leads = "L " + LeaseChildren.idOf(2) + " ";
            long midAgreed = mid.awaitArrival(midMark, l -> l.startsWith(leads) && l.contains(" true "),
                    Duration.ofSeconds(10), "rank 2 leads");
            long highAgreed = high.awaitArrival(highMark, l -> l.startsWith(leads), Duration.ofSeconds(10),
                    "rank 2 leader");
            System.out.printf("handover: rank 2 held the lease %d ms, every survivor agreed %d ms after SIGTERM%n",
                    (takenAt - sigterm) / 1_000_000, (Math.max(midAgreed, highAgreed) - sigterm) / 1_000_000);
            assertThat(takenAt - sigterm).as("lease taken, ns after SIGTERM").isLessThanOrEqualTo(handover.toNanos());
            assertThat(Math.max(midAgreed, highAgreed) - sigterm).as("agreement, ns after SIGTERM")
                    .isLessThanOrEqualTo(handover.toNanos());
            assertThat(low.awaitExit(Duration.ofSeconds(30))).as("rank 1 exits after SIGTERM: %s", low.tail()).isTrue();
            assertThat(low.since(0)).as("rank 1 closed").anyMatch(l -> l.startsWith("CLOSED "));
            String[] second = c.awaitAgreement(List.of(mid, high), mid, 2, db, Duration.ofSeconds(10));
            assertThat(Long.parseLong(second[3])).isGreaterThan(Long.parseLong(first[3]));
            assertThat(Long.parseLong(second[4])).isGreaterThan(Long.parseLong(first[4])).isEqualTo(taken.token());
            assertThat(high.since(highMark)).anyMatch(l -> l.startsWith(leads) && l.contains(" leave "));

            int midMark2 = mid.mark();
            ChildNode again = c.start(1);
            String[] third = c.awaitAgreement(List.of(again, mid, high), again, 1, db, SETTLE);
            assertThat(Long.parseLong(third[3])).as("epoch after the takeover").isGreaterThan(Long.parseLong(second[3]));
            assertThat(Long.parseLong(third[4])).as("token after the takeover").isGreaterThan(Long.parseLong(second[4]));
            assertThat(mid.since(midMark2)).as("rank 2 hands over: %s", mid.tail())
                    .anyMatch(l -> l.startsWith("L " + LeaseChildren.idOf(1) + " ") && l.contains(" takeover "));
        }
    }
}
