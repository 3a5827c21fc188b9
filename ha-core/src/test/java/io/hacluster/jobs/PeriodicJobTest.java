package io.hacluster.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which slots the leader creates, from the last slot in the table and the database's time. */
class PeriodicJobTest {

    private static final JobSchedule EVERY_10S = JobSchedule.every(Duration.ofSeconds(10));
    private static final Instant T0 = Instant.parse("2026-12-04T10:00:00Z");

    private static PeriodicJob job(MisfirePolicy policy) {
        return new PeriodicJob("report", EVERY_10S, policy);
    }

    @Test
    void intervalSlotsAreMultiplesOfTheIntervalSinceTheEpoch() {
        assertThat(EVERY_10S.nextAfter(T0)).isEqualTo(T0.plusSeconds(10));
        assertThat(EVERY_10S.nextAfter(T0.plusMillis(1))).isEqualTo(T0.plusSeconds(10));
        assertThat(EVERY_10S.nextAfter(T0.minusNanos(1))).isEqualTo(T0);
        assertThat(EVERY_10S.previousBefore(T0)).contains(T0.minusSeconds(10));
        assertThat(EVERY_10S.previousBefore(T0.plusNanos(1))).contains(T0);
        assertThat(EVERY_10S.previousBefore(T0.plusSeconds(3))).contains(T0);
    }

    @Test
    void aTypeWithoutRowsGetsTheNextFutureSlot() {
        assertThat(job(MisfirePolicy.RUN_ALL).slotsToCreate(Optional.empty(), T0.plusSeconds(3)))
                .containsExactly(T0.plusSeconds(10));
    }

    @Test
    void nothingIsCreatedWhileTheNextSlotsRowExists() {
        assertThat(job(MisfirePolicy.RUN_ALL).slotsToCreate(Optional.of(T0.plusSeconds(10)), T0.plusSeconds(3)))
                .isEmpty();
    }

    @Test
    void onceTheLatestRowIsDueTheNextOneIsCreatedWithoutWaitingAPeriod() {
        // the row of T0 is due (a new leader continues from the table, not from a timer)
        for (MisfirePolicy policy : MisfirePolicy.values()) {
            assertThat(job(policy).slotsToCreate(Optional.of(T0), T0.plusMillis(200)))
                    .as("%s", policy).containsExactly(T0.plusSeconds(10));
        }
    }

    @Test
    void missedSlotsFollowThePolicy() {
        Optional<Instant> last = Optional.of(T0);
        Instant now = T0.plusSeconds(35);  // 10, 20, 30 were missed
        assertThat(job(MisfirePolicy.SKIP).slotsToCreate(last, now)).containsExactly(T0.plusSeconds(40));
        assertThat(job(MisfirePolicy.RUN_LATEST).slotsToCreate(last, now))
                .containsExactly(T0.plusSeconds(30), T0.plusSeconds(40));
        assertThat(job(MisfirePolicy.RUN_ALL).slotsToCreate(last, now))
                .containsExactly(T0.plusSeconds(10), T0.plusSeconds(20), T0.plusSeconds(30), T0.plusSeconds(40));
    }

    @Test
    void aSlotExactlyAtNowIsMissedNotFuture() {
        List<Instant> slots = job(MisfirePolicy.RUN_ALL).slotsToCreate(Optional.of(T0), T0.plusSeconds(20));
        assertThat(slots).containsExactly(T0.plusSeconds(10), T0.plusSeconds(20), T0.plusSeconds(30));
    }

    @Test
    void runAllIsBoundedToTheLatestMissedSlots() {
        Instant now = T0.plus(Duration.ofDays(30));  // 259,200 missed slots
        List<Instant> slots = job(MisfirePolicy.RUN_ALL).slotsToCreate(Optional.of(T0), now);
        assertThat(slots).hasSize(JobServer.MAX_CATCH_UP + 1);
        assertThat(slots.get(JobServer.MAX_CATCH_UP - 1)).isEqualTo(now);
        assertThat(slots.get(0)).isEqualTo(now.minusSeconds(10L * (JobServer.MAX_CATCH_UP - 1)));
        assertThat(slots).isSorted();
    }

    @Test
    void cronSchedulesInUtcAndInAZone() {
        JobSchedule nightly = JobSchedule.cron("0 3 * * *");
        assertThat(nightly.nextAfter(T0)).isEqualTo(Instant.parse("2026-12-05T03:00:00Z"));
        assertThat(nightly.previousBefore(T0)).contains(Instant.parse("2026-12-04T03:00:00Z"));
        JobSchedule berlin = JobSchedule.cron("0 3 * * *", java.time.ZoneId.of("Europe/Berlin"));
        assertThat(berlin.nextAfter(T0)).isEqualTo(Instant.parse("2026-12-05T02:00:00Z"));
        PeriodicJob hourly = new PeriodicJob("h", JobSchedule.cron("0 * * * *"), MisfirePolicy.RUN_ALL);
        assertThat(hourly.slotsToCreate(Optional.of(T0), T0.plus(Duration.ofMinutes(150))))
                .containsExactly(T0.plusSeconds(3600), T0.plusSeconds(7200), T0.plusSeconds(10800));
    }

    @Test
    void badSchedulesAreRefusedClearly() {
        assertThatThrownBy(() -> JobSchedule.cron("61 * * * *")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid cron expression '61 * * * *'");
        assertThatThrownBy(() -> JobSchedule.every(Duration.ofMillis(500))).hasMessageContaining("at least 1 s");
        assertThatThrownBy(() -> JobSchedule.every(Duration.ofNanos(1_000_000_500L)))
                .hasMessageContaining("whole milliseconds");
    }

    @Test
    void errorsAreBoundedAndEscaped() {
        String text = JobWorkers.errorText(new IllegalStateException("line1\nline2\u001b[31m"));
        assertThat(text).doesNotContain("\n").contains("\\u000a").contains("\\u001b");
        assertThat(JobWorkers.errorText(new RuntimeException("x".repeat(10_000)))).hasSizeLessThan(2100);
    }
}
