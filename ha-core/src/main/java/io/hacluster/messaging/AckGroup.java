package io.hacluster.messaging;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The outcome of one send to one or more targets: settles when every target acknowledged, was
 * merely queued (when nobody waits for acknowledgements) or failed, or when the send's deadline
 * passes. One object per send, not one future per target, keeps a broadcast's completion to a
 * single future completion. Outcomes arriving after the group settled (a late ACK after the
 * deadline) are ignored.
 */
final class AckGroup {

    private final String event;
    private final List<String> targets;
    /** When a waiting send stops waiting ({@link System#nanoTime()}); see {@link Deadlines}. */
    final long deadlineNanos;
    private final CompletableFuture<SendResult> future = new CompletableFuture<>();
    private final Set<String> acknowledged = new LinkedHashSet<>();
    private final Set<String> queued = new LinkedHashSet<>();
    private final Map<String, Throwable> failures = new LinkedHashMap<>();
    private int remaining;
    private boolean settled;

    AckGroup(String event, List<String> targets, long deadlineNanos) {
        this.event = event;
        this.targets = targets;
        this.deadlineNanos = deadlineNanos;
        this.remaining = targets.size();
    }

    CompletableFuture<SendResult> future() {
        return future;
    }

    /** The target ran its handler and acknowledged; true if that settled the group (then call {@link #finish()}). */
    synchronized boolean acked(String nodeId) {
        return !settled && acknowledged.add(nodeId) && decide();
    }

    /** The message was handed over for the target without waiting; true if that settled the group. */
    synchronized boolean queued(String nodeId) {
        return !settled && queued.add(nodeId) && decide();
    }

    /** The target failed; true if that settled the group (then call {@link #finish()}). */
    synchronized boolean failed(String nodeId, Throwable cause) {
        if (settled || acknowledged.contains(nodeId) || failures.containsKey(nodeId)) {
            return false;
        }
        failures.put(nodeId, cause);
        return decide();
    }

    /**
     * The deadline passed: every target still undecided fails with a
     * {@link DeliveryTimeoutException}. True if that settled the group (then call {@link #finish()}).
     */
    synchronized boolean expire(Duration timeout) {
        if (settled) {
            return false;
        }
        for (String id : targets) {
            if (!acknowledged.contains(id) && !queued.contains(id) && !failures.containsKey(id)) {
                failures.put(id, new DeliveryTimeoutException(id, "message '" + event + "' not acknowledged by " + id
                        + " within " + timeout + "; it stays queued and may still be delivered"));
            }
        }
        remaining = 0;
        settled = true;
        return true;
    }

    synchronized boolean isSettled() {
        return settled;
    }

    private boolean decide() {
        if (--remaining == 0) {
            settled = true;
            return true;
        }
        return false;
    }

    /**
     * Completes the future: with the {@link SendResult} when no target failed; with the cause
     * itself for a single target; else with a {@link SendFailedException} holding every target's
     * outcome.
     */
    void finish() {
        SendResult result;
        synchronized (this) {
            result = new SendResult(targets, acknowledged, queued, failures);
        }
        if (result.failures().isEmpty()) {
            future.complete(result);
        } else if (targets.size() == 1) {
            future.completeExceptionally(result.failures().values().iterator().next());
        } else {
            future.completeExceptionally(new SendFailedException(event, result));
        }
    }
}
