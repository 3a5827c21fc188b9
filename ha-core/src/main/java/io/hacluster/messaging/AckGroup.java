package io.hacluster.messaging;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The outcome of one send to one or more targets: settles when every target acknowledged, was
 * merely queued (when nobody waits for acknowledgements) or failed, or when the send's deadline
 * passes. One object per send, not one future per target, keeps a broadcast's completion to a
 * single future completion; outcomes are kept per target index in a small array, so a send costs
 * no collection until its result is built. Outcomes arriving after the group settled (a late
 * ACK after the deadline) are ignored.
 */
final class AckGroup {

    private static final byte UNDECIDED = 0;
    private static final byte ACKNOWLEDGED = 1;
    private static final byte QUEUED = 2;
    private static final byte FAILED = 3;

    private final String event;
    private final List<String> targets;
    private final boolean broadcast;
    /** When a waiting send stops waiting, on {@link System#nanoTime()}; the deadline sweep compares it. */
    final long deadlineNanos;
    private final CompletableFuture<SendResult> future = new CompletableFuture<>();
    private final byte[] outcome;
    private Throwable[] causes;
    private int remaining;
    private boolean settled;

    /**
     * @param broadcast whether this is a broadcast ({@code send}): its failures always come as a
     *     {@link SendFailedException}, whatever the number of targets; a {@code sendTo} fails with
     *     the cause itself
     */
    AckGroup(String event, List<String> targets, boolean broadcast, long deadlineNanos) {
        this.event = event;
        this.targets = targets;
        this.broadcast = broadcast;
        this.deadlineNanos = deadlineNanos;
        this.outcome = new byte[targets.size()];
        this.remaining = targets.size();
    }

    CompletableFuture<SendResult> future() {
        return future;
    }

    /** Target {@code index} ran its handler and acknowledged; true if that settled the group (then call {@link #finish()}). */
    synchronized boolean acked(int index) {
        return decide(index, ACKNOWLEDGED, null);
    }

    /** The message was handed over for target {@code index} without waiting; true if that settled the group. */
    synchronized boolean queued(int index) {
        return decide(index, QUEUED, null);
    }

    /** Target {@code index} failed; true if that settled the group (then call {@link #finish()}). */
    synchronized boolean failed(int index, Throwable cause) {
        return decide(index, FAILED, cause);
    }

    /**
     * The deadline passed: every target still undecided fails with a
     * {@link DeliveryTimeoutException}. True if that settled the group (then call {@link #finish()}).
     */
    synchronized boolean expire(Duration timeout) {
        if (settled) {
            return false;
        }
        for (int i = 0; i < outcome.length; i++) {
            if (outcome[i] == UNDECIDED) {
                String id = targets.get(i);
                decide(i, FAILED, new DeliveryTimeoutException(id, "message '" + event + "' not acknowledged by "
                        + id + " within " + timeout + "; it stays queued and may still be delivered"));
            }
        }
        return settled;
    }

    synchronized boolean isSettled() {
        return settled;
    }

    private boolean decide(int index, byte what, Throwable cause) {
        if (settled || outcome[index] != UNDECIDED) {
            return false;
        }
        outcome[index] = what;
        if (cause != null) {
            if (causes == null) {
                causes = new Throwable[outcome.length];
            }
            causes[index] = cause;
        }
        if (--remaining == 0) {
            settled = true;
            return true;
        }
        return false;
    }

    /**
     * Completes the future: with the {@link SendResult} when no target failed; for a failed
     * {@code sendTo}, with the cause itself; for a broadcast with any failure, with a
     * {@link SendFailedException} holding every target's outcome.
     */
    void finish() {
        SendResult result;
        Throwable single = null;
        synchronized (this) {
            Set<String> acknowledged = new LinkedHashSet<>();
            Set<String> queued = new LinkedHashSet<>();
            Map<String, Throwable> failures = new HashMap<>();
            for (int i = 0; i < outcome.length; i++) {
                switch (outcome[i]) {
                    case ACKNOWLEDGED -> acknowledged.add(targets.get(i));
                    case QUEUED -> queued.add(targets.get(i));
                    case FAILED -> {
                        failures.put(targets.get(i), causes[i]);
                        single = causes[i];
                    }
                    default -> { }
                }
            }
            result = new SendResult(targets, acknowledged, queued, failures);
        }
        if (result.failures().isEmpty()) {
            future.complete(result);
        } else if (!broadcast && targets.size() == 1) {
            future.completeExceptionally(single);
        } else {
            future.completeExceptionally(new SendFailedException(event, result));
        }
    }
}
