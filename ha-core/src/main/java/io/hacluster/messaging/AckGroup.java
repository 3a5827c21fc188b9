package io.hacluster.messaging;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The outcome of one send to one or more targets: settles when every target acknowledged (or was
 * merely queued, when nobody waits for acknowledgements) or failed. One counter per send instead of
 * one future per target keeps a broadcast's completion to a single future completion.
 */
final class AckGroup {

    private final String event;
    private final int targets;
    private final AtomicInteger remaining;
    private final CompletableFuture<Void> future = new CompletableFuture<>();
    private final Queue<String> failedIds = new ConcurrentLinkedQueue<>();
    private final Queue<Throwable> causes = new ConcurrentLinkedQueue<>();

    AckGroup(String event, int targets) {
        this.event = event;
        this.targets = targets;
        this.remaining = new AtomicInteger(targets);
    }

    CompletableFuture<Void> future() {
        return future;
    }

    /** One target is done; returns true if that settled the group (then call {@link #finish()}). */
    boolean acked() {
        return remaining.decrementAndGet() == 0;
    }

    /** One target failed; returns true if that settled the group (then call {@link #finish()}). */
    boolean failed(String nodeId, Throwable cause) {
        failedIds.add(nodeId);
        causes.add(cause);
        return remaining.decrementAndGet() == 0;
    }

    /**
     * Completes the future: normally if no target failed; with the cause itself for a single
     * target; else with a {@link MessagingException} naming the failed targets (the others may
     * have delivered).
     */
    void finish() {
        Throwable first = causes.peek();
        if (first == null) {
            future.complete(null);
        } else if (targets == 1) {
            future.completeExceptionally(first);
        } else {
            MessagingException ex = new MessagingException("message '" + event + "' failed for "
                    + List.copyOf(failedIds) + " of " + targets + " targets: " + first.getMessage());
            causes.forEach(ex::addSuppressed);
            future.completeExceptionally(ex);
        }
    }
}
