package io.hacluster.gossip;

import java.time.Duration;

/**
 * memberlist's scaling formulas ({@code util.go}, {@code suspicion.go}). They use log10, although
 * memberlist's comments say log(N+1); we follow the code, which is what real clusters run.
 */
final class GossipMath {

    /** Push/pull is not slowed down below this many nodes (memberlist's pushPullScaleThreshold). */
    static final int PUSH_PULL_SCALE_THRESHOLD = 32;

    private GossipMath() {
    }

    /**
     * Minimum suspicion timeout: {@code mult * max(1, log10(max(1, n))) * interval}, with the node
     * scale truncated to thousandths exactly as memberlist's integer arithmetic does.
     */
    static Duration suspicionTimeout(int suspicionMult, int n, Duration interval) {
        double nodeScale = Math.max(1.0, Math.log10(Math.max(1.0, n)));
        long scaleMillis = (long) (nodeScale * 1000); // Go: time.Duration(nodeScale*1000) truncates
        long nanos = suspicionMult * scaleMillis * interval.toNanos() / 1000;
        return Duration.ofNanos(nanos);
    }

    /** How many times a broadcast is sent: {@code mult * ceil(log10(n + 1))}. */
    static int retransmitLimit(int retransmitMult, int n) {
        int nodeScale = (int) Math.ceil(Math.log10(n + 1.0));
        return retransmitMult * nodeScale;
    }

    /** Push/pull period: unchanged up to 32 nodes, then {@code (ceil(log2 n - log2 32) + 1) * interval}. */
    static Duration pushPullScale(Duration interval, int n) {
        if (n <= PUSH_PULL_SCALE_THRESHOLD) {
            return interval;
        }
        double multiplier = Math.ceil(log2(n) - log2(PUSH_PULL_SCALE_THRESHOLD)) + 1.0;
        return interval.multipliedBy((long) multiplier);
    }

    /**
     * Suspicion time left after {@code confirmations} independent confirmations out of
     * {@code k} expected: {@code max - (log(c+1)/log(k+1)) * (max - min)}, floored to whole
     * milliseconds and to {@code min}, minus the time already elapsed (may be negative).
     */
    static Duration remainingSuspicionTime(int confirmations, int k, Duration elapsed, Duration min, Duration max) {
        double frac = Math.log(confirmations + 1.0) / Math.log(k + 1.0);
        double maxSeconds = max.toNanos() / 1e9;
        double minSeconds = min.toNanos() / 1e9;
        double raw = maxSeconds - frac * (maxSeconds - minSeconds);
        Duration timeout = Duration.ofMillis((long) Math.floor(1000.0 * raw));
        if (timeout.compareTo(min) < 0) {
            timeout = min;
        }
        return timeout.minus(elapsed);
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }
}
