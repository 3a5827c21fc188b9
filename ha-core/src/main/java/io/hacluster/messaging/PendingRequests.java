package io.hacluster.messaging;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Requests waiting for their reply, by correlation id. An entry leaves when its future completes
 * (reply, error, timeout, peer death, close), so the map is bounded by what is in flight. Futures
 * are completed on the callback executor, never on I/O or handler threads.
 */
final class PendingRequests {

    private final Map<Long, PendingRequest> byId = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Executor callbacks;

    PendingRequests(Executor callbacks) {
        this.callbacks = callbacks;
    }

    /** Registers a request to {@code targetId}; returns its correlation id. */
    long register(String targetId, String event, CompletableFuture<byte[]> future) {
        long id = ids.incrementAndGet();
        byId.put(id, new PendingRequest(targetId, event, future));
        future.whenComplete((r, e) -> byId.remove(id));
        return id;
    }

    /**
     * Completes request {@code id} with a reply (or {@code error}) from {@code from}.
     *
     * @return false if no such request waits for {@code from} (late reply, or one from a node that
     *     was not asked)
     */
    boolean complete(String from, long id, byte[] data, Throwable error) {
        PendingRequest r = byId.get(id);
        if (r == null || !r.targetId().equals(from) || !byId.remove(id, r)) {
            return false;
        }
        run(() -> {
            if (error == null) {
                r.future().complete(data);
            } else {
                r.future().completeExceptionally(error);
            }
        });
        return true;
    }

    /** Fails every request waiting for {@code nodeId}. */
    void failFor(String nodeId, Function<PendingRequest, Throwable> error) {
        for (Map.Entry<Long, PendingRequest> e : byId.entrySet()) {
            PendingRequest r = e.getValue();
            if (r.targetId().equals(nodeId) && byId.remove(e.getKey(), r)) {
                Throwable t = error.apply(r);
                run(() -> r.future().completeExceptionally(t));
            }
        }
    }

    /** Fails every pending request, on the calling thread (the messenger is closing). */
    void failAll(Throwable error) {
        for (Long id : List.copyOf(byId.keySet())) {
            PendingRequest r = byId.remove(id);
            if (r != null) {
                r.future().completeExceptionally(error);
            }
        }
    }

    private void run(Runnable r) {
        try {
            callbacks.execute(r);
        } catch (RejectedExecutionException e) {
            r.run(); // closing: complete here rather than leave a caller waiting
        }
    }
}
