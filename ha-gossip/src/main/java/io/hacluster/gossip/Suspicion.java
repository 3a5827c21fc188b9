package io.hacluster.gossip;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/**
 * One suspicion timer (memberlist's {@code suspicion.go}, Lifeguard's LHA-Suspicion). The timer
 * starts at {@code max} (or {@code min} when no confirmations are expected) and shrinks towards
 * {@code min} as distinct peers confirm the suspicion, so a node that many peers cannot reach is
 * declared dead sooner while a lone accuser's view is given time to be refuted. Runs on the
 * state-machine thread only.
 */
final class Suspicion {

    private final Scheduler scheduler;
    private final int k;
    private final Duration min;
    private final Duration max;
    private final long startNanos;
    private final Set<String> confirmations = new HashSet<>();
    private final Runnable onTimeout;
    private Scheduler.Cancellable timer;
    private int n;
    private boolean fired;

    /**
     * @param from      the first accuser; does not count as a confirmation
     * @param k         confirmations expected before the timer reaches {@code min}
     * @param onTimeout runs on the state-machine thread when the timer fires
     */
    Suspicion(Scheduler scheduler, String from, int k, Duration min, Duration max, Runnable onTimeout) {
        this.scheduler = scheduler;
        this.k = k;
        this.min = min;
        this.max = max;
        this.onTimeout = onTimeout;
        this.confirmations.add(from);
        this.startNanos = scheduler.nanoTime();
        Duration timeout = k < 1 ? min : max;
        this.timer = scheduler.schedule(timeout, this::fire);
    }

    private void fire() {
        if (!fired) {
            fired = true;
            onTimeout.run();
        }
    }

    /**
     * Records a confirmation from {@code from}. Returns true when it was new information (a
     * distinct confirmer while fewer than {@code k} have confirmed), which the caller re-gossips.
     */
    boolean confirm(String from) {
        if (n >= k || fired) {
            return false;
        }
        if (!confirmations.add(from)) {
            return false;
        }
        n++;
        Duration elapsed = Duration.ofNanos(scheduler.nanoTime() - startNanos);
        Duration remaining = GossipMath.remainingSuspicionTime(n, k, elapsed, min, max);
        timer.cancel();
        if (remaining.isNegative() || remaining.isZero()) {
            timer = scheduler.schedule(Duration.ZERO, this::fire);
        } else {
            timer = scheduler.schedule(remaining, this::fire);
        }
        return true;
    }

    /** Stops the timer without firing (refutation, or the node was declared dead otherwise). */
    void cancel() {
        fired = true;
        timer.cancel();
    }

    /** Confirmations received so far (the first accuser excluded). */
    int confirmations() {
        return n;
    }
}
