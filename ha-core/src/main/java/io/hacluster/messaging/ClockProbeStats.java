package io.hacluster.messaging;

/**
 * Counts of the clock-offset probe on the streaming connections since start.
 *
 * @param samples    round trips that became samples
 * @param rejected   round trips rejected because a wall clock stepped during them (or the peer's
 *                   timestamps were impossible)
 * @param ignored    time frames ignored: replies not asked for or superseded, unknown operations,
 *                   truncated payloads
 * @param answered   peers' time requests answered
 * @param unanswered peers' time requests not answered: above the rate limit, or the connection
 *                   was not writable
 */
public record ClockProbeStats(long samples, long rejected, long ignored, long answered, long unanswered) {
}
