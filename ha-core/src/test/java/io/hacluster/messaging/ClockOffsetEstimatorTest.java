package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.hacluster.ClockOffset;
import org.junit.jupiter.api.Test;

/** The NTP-style estimator: four timestamps, minimum-delay selection, clock steps rejected. */
class ClockOffsetEstimatorTest {

    private static final long T0 = 1_765_000_000_000_000L;  // µs since the epoch
    private static final long MONO0 = 5_000_000_000L;
    private static final long AGE = 60_000_000_000L;

    /**
     * One round trip against a peer whose clock is {@code offsetMicros} ahead: {@code outMicros} on
     * the way there, {@code processMicros} at the peer, {@code backMicros} on the way back, starting
     * {@code atMicros} after T0.
     */
    private static ClockOffsetEstimator.Sample trip(long atMicros, long offsetMicros, long outMicros,
                                                    long processMicros, long backMicros) {
        long t1 = T0 + atMicros;
        long t2 = t1 + outMicros + offsetMicros;
        long t3 = t2 + processMicros;
        long t4 = t1 + outMicros + processMicros + backMicros;
        long m1 = MONO0 + atMicros * 1000;
        long m4 = m1 + (outMicros + processMicros + backMicros) * 1000;
        return ClockOffsetEstimator.sample(t1, t2, t3, t4, m1, m4);
    }

    @Test
    void symmetricRoundTripGivesTheExactOffsetAndDelay() {
        ClockOffsetEstimator.Sample s = trip(0, 2_000_000, 300, 50, 300);
        assertThat(s.offsetMicros()).isEqualTo(2_000_000);
        assertThat(s.delayMicros()).isEqualTo(600);  // the peer's 50 µs are not network delay
    }

    @Test
    void asymmetricDelayErrsByHalfTheAsymmetryAtMostHalfTheDelay() {
        ClockOffsetEstimator.Sample s = trip(0, 2_000_000, 9_000, 0, 1_000);
        assertThat(s.delayMicros()).isEqualTo(10_000);
        assertThat(s.offsetMicros() - 2_000_000).isEqualTo((9_000 - 1_000) / 2);
        assertThat(Math.abs(s.offsetMicros() - 2_000_000)).isLessThanOrEqualTo(s.delayMicros() / 2);
        ClockOffsetEstimator.Sample back = trip(0, -500_000, 1_000, 0, 9_000);
        assertThat(back.offsetMicros() + 500_000).isEqualTo(-(9_000 - 1_000) / 2);
    }

    @Test
    void theMinimumDelaySampleWinsEvenIfOlder() {
        ClockOffsetEstimator e = new ClockOffsetEstimator();
        e.offer(trip(0, 2_000_000, 20_000, 10, 1_000));           // queued on the way out: 9.5 ms off
        e.offer(trip(1_000_000, 2_000_000, 200, 10, 220));        // quiet: 10 µs off
        e.offer(trip(2_000_000, 2_000_000, 1_000, 10, 30_000));   // queued on the way back: 14.5 ms off
        e.offer(trip(3_000_000, 2_000_000, 5_000, 10, 5_000));    // slow but symmetric
        ClockOffset o = e.estimate(MONO0 + 4_000_000_000L, AGE);
        assertThat(o.delayMillis()).isEqualTo(0.42, within(1e-9));
        assertThat(o.offsetMillis()).isEqualTo(1999.99, within(1e-9));
        assertThat(o.samples()).isEqualTo(4);
        assertThat(o.sampledAtMillis()).isEqualTo((T0 + 1_000_000 + 430) / 1000);
    }

    @Test
    void theWindowKeepsTheLastEightSoAClockChangeIsSeenWithinEightSamples() {
        ClockOffsetEstimator e = new ClockOffsetEstimator();
        e.offer(trip(0, 2_000_000, 50, 0, 50));  // the best sample of all, then the clock is corrected
        for (int i = 1; i <= ClockOffsetEstimator.WINDOW; i++) {
            assertThat(e.estimate(MONO0 + i * 1_000_000_000L, AGE).offsetMillis()).isEqualTo(2000.0);
            e.offer(trip(i * 1_000_000L, 0, 400, 0, 400));
        }
        assertThat(e.estimate(MONO0 + 9_000_000_000L, AGE).offsetMillis()).isZero();
    }

    @Test
    void samplesOlderThanTheMaximumAgeAreDropped() {
        ClockOffsetEstimator e = new ClockOffsetEstimator();
        e.offer(trip(0, 1_000, 100, 0, 100));
        assertThat(e.estimate(MONO0 + AGE / 2, AGE)).isNotNull();
        assertThat(e.estimate(MONO0 + AGE * 2, AGE)).isNull();
    }

    @Test
    void aLocalClockStepDuringTheRoundTripIsRejected() {
        long t1 = T0;
        long m1 = MONO0;
        long m4 = m1 + 1_000_000;  // 1 ms round trip on the monotonic clock
        long t4 = t1 + 1_000 + 2_000_000;  // but the wall clock moved 2 s meanwhile
        assertThat(ClockOffsetEstimator.sample(t1, t1 + 500, t1 + 500, t4, m1, m4)).isNull();
        ClockOffsetEstimator e = new ClockOffsetEstimator();
        e.offer(null);
        assertThat(e.rejected()).isEqualTo(1);
        assertThat(e.estimate(MONO0, AGE)).isNull();
    }

    @Test
    void impossiblePeerTimestampsAreRejected() {
        long m4 = MONO0 + 1_000_000;  // 1 ms round trip
        // the peer says it held the request for longer than the whole round trip
        assertThat(ClockOffsetEstimator.sample(T0, T0 + 10, T0 + 5_000, T0 + 1_000, MONO0, m4)).isNull();
        // or that it answered before it received
        assertThat(ClockOffsetEstimator.sample(T0, T0 + 10, T0 + 5, T0 + 1_000, MONO0, m4)).isNull();
        // hostile extremes never overflow into a plausible value
        assertThat(ClockOffsetEstimator.sample(T0, Long.MIN_VALUE, Long.MIN_VALUE, T0 + 1_000, MONO0, m4)).isNull();
        assertThat(ClockOffsetEstimator.sample(T0, Long.MAX_VALUE - 10, Long.MAX_VALUE - 10, T0 + 1_000, MONO0, m4))
                .isNull();
        long decades = 1_000_000_000_000_000L;  // absurd but consistent: ~31 years ahead, shown as skew
        assertThat(ClockOffsetEstimator.sample(T0, T0 + decades, T0 + decades, T0 + 1_000, MONO0, m4).offsetMicros())
                .isEqualTo(decades - 500);
    }
}
