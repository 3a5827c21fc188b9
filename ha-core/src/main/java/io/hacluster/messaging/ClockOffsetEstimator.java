package io.hacluster.messaging;

import io.hacluster.ClockOffset;

/**
 * One peer's clock offset from a window of NTP-style samples (RFC 5905's clock filter, reduced to
 * its core): each round trip gives four timestamps, t1 (request sent, our clock), t2 (request
 * received, the peer's), t3 (reply sent, the peer's) and t4 (reply received, ours), so
 *
 * <pre>
 * offset = ((t2 - t1) + (t3 - t4)) / 2        delay = (t4 - t1) - (t3 - t2)
 * </pre>
 *
 * <p>Whatever the asymmetry of the two directions, the true offset lies within {@code delay / 2}
 * of the computed one, so of the last {@link #WINDOW} samples the one with the smallest delay is
 * the best estimate: a sample that waited in a queue on either side has a larger delay and is
 * passed over. The delay is measured on the monotonic clock ({@code System.nanoTime()}), never
 * on the wall clock: a sample during which our wall clock stepped (the wall and the monotonic
 * round trips disagree) or the peer's did (its processing time is negative or longer than the
 * round trip) is rejected instead of poisoning the window. Thread-safe.
 */
final class ClockOffsetEstimator {

    /** Samples kept, as NTP's clock filter keeps eight. */
    static final int WINDOW = 8;
    /** How far the wall round trip may differ from the monotonic one before the sample is rejected. */
    static final long STEP_TOLERANCE_MICROS = 2_000;

    /** One accepted round trip. */
    record Sample(long offsetMicros, long delayMicros, long takenAtMonoNanos, long takenAtWallMillis) {
    }

    private final Sample[] window = new Sample[WINDOW];
    private int next;
    private int size;
    private long rejected;

    /**
     * Computes a sample from one round trip, or returns null when the clocks are inconsistent.
     *
     * @param t1Micros   request sent, local wall clock, microseconds since the epoch
     * @param t2Micros   request received, peer's wall clock
     * @param t3Micros   reply sent, peer's wall clock
     * @param t4Micros   reply received, local wall clock
     * @param sentMono   request sent, local monotonic nanoseconds
     * @param receivedMono reply received, local monotonic nanoseconds
     */
    static Sample sample(long t1Micros, long t2Micros, long t3Micros, long t4Micros, long sentMono,
                         long receivedMono) {
        long roundTripMicros = (receivedMono - sentMono) / 1_000;
        long peerMicros = t3Micros - t2Micros;
        if (roundTripMicros < 0 || t3Micros < t2Micros || peerMicros < 0 || peerMicros > roundTripMicros) {
            return null;  // the peer's clock stepped between t2 and t3, or it lies
        }
        long wallRoundTrip = t4Micros - t1Micros;
        long tolerance = Math.max(STEP_TOLERANCE_MICROS, roundTripMicros / 10);
        if (Math.abs(wallRoundTrip - roundTripMicros) > tolerance) {
            return null;  // our wall clock stepped during the round trip
        }
        long offset;
        try {  // the peer's timestamps come from the network: any long at all
            offset = Math.floorDiv(Math.addExact(Math.subtractExact(t2Micros, t1Micros),
                    Math.subtractExact(t3Micros, t4Micros)), 2);
        } catch (ArithmeticException e) {
            return null;
        }
        long delay = roundTripMicros - peerMicros;
        return new Sample(offset, delay, receivedMono, Math.floorDiv(t4Micros, 1000));
    }

    /** Adds a sample; null (an inconsistent round trip) is counted and otherwise ignored. */
    synchronized void offer(Sample s) {
        if (s == null) {
            rejected++;
            return;
        }
        window[next] = s;
        next = (next + 1) % WINDOW;
        size = Math.min(size + 1, WINDOW);
    }

    /** Rounds trips rejected because a clock stepped during them. */
    synchronized long rejected() {
        return rejected;
    }

    /**
     * The minimum-delay sample among those not older than {@code maxAgeNanos}, or null when there
     * is none (no sample yet, or the connection has been down that long).
     */
    synchronized ClockOffset estimate(long nowMonoNanos, long maxAgeNanos) {
        Sample best = null;
        int fresh = 0;
        for (int i = 0; i < size; i++) {
            Sample s = window[i];
            if (nowMonoNanos - s.takenAtMonoNanos() > maxAgeNanos) {
                continue;
            }
            fresh++;
            if (best == null || s.delayMicros() < best.delayMicros()
                    || (s.delayMicros() == best.delayMicros() && s.takenAtMonoNanos() - best.takenAtMonoNanos() > 0)) {
                best = s;
            }
        }
        return best == null ? null : new ClockOffset(best.offsetMicros() / 1000.0, best.delayMicros() / 1000.0,
                best.takenAtWallMillis(), fresh);
    }
}
