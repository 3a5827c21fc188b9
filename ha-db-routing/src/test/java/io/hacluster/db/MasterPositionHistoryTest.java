package io.hacluster.db;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MasterPositionHistoryTest {

    private static final long MS = 1_000_000;

    @Test
    void unknownWithoutSamples() {
        assertThat(new MasterPositionHistory(8).lagMillis(100, 5_000L, 0)).isEqualTo(-1);
    }

    @Test
    void caughtUpWithNewestSampleIsNotBehindEvenIfLastReplayIsOld() {
        // An idle primary: the last replayed commit is an hour old, yet nothing is missing.
        MasterPositionHistory h = new MasterPositionHistory(8);
        h.record(0, 1000);
        assertThat(h.lagMillis(1000, 3_600_000L, 5_000 * MS)).isZero();
        assertThat(h.lagMillis(1200, 3_600_000L, 5_000 * MS)).isZero();
    }

    @Test
    void firstWriteAfterLongIdleDoesNotLookLikeHoursOfLag() {
        MasterPositionHistory h = new MasterPositionHistory(8);
        h.record(0, 1000);            // idle master at t=0
        h.record(5_000 * MS, 1100);   // one write just before t=5s
        // The replica has everything up to the t=0 sample; the missing WAL is at most 5.2 s old,
        // although its last replayed commit is an hour old.
        assertThat(h.lagMillis(1000, 3_600_000L, 5_200 * MS)).isEqualTo(5_200);
    }

    @Test
    void replayTimestampTightensTheBound() {
        MasterPositionHistory h = new MasterPositionHistory(8);
        h.record(0, 1000);
        h.record(5_000 * MS, 2000);
        assertThat(h.lagMillis(1500, 300L, 6_000 * MS)).isEqualTo(300);
    }

    @Test
    void pausedReplicaFallsFurtherBehindEveryTick() {
        MasterPositionHistory h = new MasterPositionHistory(8);
        for (int tick = 0; tick < 5; tick++) {
            h.record(tick * 1_000 * MS, 1000 + tick * 100L);
        }
        // Replay stopped at the t=1s position.
        assertThat(h.lagMillis(1100, null, 4_500 * MS)).isEqualTo(3_500);
        assertThat(h.lagMillis(1100, null, 9_500 * MS)).isEqualTo(8_500);
    }

    @Test
    void behindEverySampleIsAtLeastTheOldestAge() {
        MasterPositionHistory h = new MasterPositionHistory(2);
        h.record(0, 1000);
        h.record(1_000 * MS, 2000);
        h.record(2_000 * MS, 3000); // drops the first sample
        assertThat(h.size()).isEqualTo(2);
        assertThat(h.lagMillis(500, null, 3_000 * MS)).isEqualTo(2_000);
        assertThat(h.lagMillis(500, 60_000L, 3_000 * MS)).isEqualTo(60_000);
    }
}
