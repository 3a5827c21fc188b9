package io.hacluster.gossip;

import java.time.Duration;

/**
 * Lifeguard's local health multiplier (memberlist's {@code awareness.go}). The score rises when
 * this node seems to be the unhealthy one (missed nacks, having to refute) and falls with each
 * successful probe; probe intervals and timeouts are multiplied by {@code score + 1} so that a
 * struggling node slows down instead of accusing healthy peers. Confined to the state-machine
 * thread, except {@link #score()}, which other threads may read.
 */
final class Awareness {

    private final int max;
    private volatile int score;

    /** {@code max} is AwarenessMaxMultiplier: the score stays within {@code [0, max - 1]}. */
    Awareness(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1");
        }
        this.max = max;
    }

    /** Adds {@code delta}, saturating at 0 and {@code max - 1}. */
    void applyDelta(int delta) {
        int s = score + delta;
        if (s < 0) {
            s = 0;
        } else if (s > max - 1) {
            s = max - 1;
        }
        score = s;
    }

    /** The current health score; 0 is healthy. */
    int score() {
        return score;
    }

    /** {@code timeout * (score + 1)}. */
    Duration scaleTimeout(Duration timeout) {
        return timeout.multipliedBy(score + 1L);
    }
}
