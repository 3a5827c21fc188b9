package io.hacluster.messaging;

/**
 * Told of the messenger's latencies, for metrics (io.hacluster.metrics.ClusterNodeMetrics
 * records them in Micrometer timers). Methods run on I/O and handler threads, on the path of
 * every message: they must be quick and must not block or throw.
 */
public interface MessengerObserver {

    /** Observes nothing. */
    MessengerObserver NONE = new MessengerObserver() {
    };

    /**
     * A reliable message was acknowledged by one peer, {@code nanos} after it was queued for it
     * (queueing, transmission, the peer's handler and its acknowledgement).
     */
    default void acknowledged(long nanos) {
    }

    /** The handler of {@code event} (a registered one) ran for {@code nanos}; {@code failed} if it threw. */
    default void handled(String event, long nanos, boolean failed) {
    }
}
