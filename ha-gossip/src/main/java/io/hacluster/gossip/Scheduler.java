package io.hacluster.gossip;

import java.time.Duration;

/**
 * Time and the single thread that the gossip state machine runs on. Every state change happens
 * in a task run by this scheduler, so the state machine needs no locks. The real implementation
 * is one named thread over the system's monotonic clock; the simulated one runs tasks in virtual
 * time order, which makes runs with the same seed identical.
 */
public interface Scheduler {

    /** Monotonic time in nanoseconds; only differences are meaningful. */
    long nanoTime();

    /** Wall-clock milliseconds since the epoch, for timestamps that leave the process. */
    long currentTimeMillis();

    /** Runs {@code task} on the state-machine thread as soon as possible. */
    void execute(Runnable task);

    /** Runs {@code task} on the state-machine thread after {@code delay}. */
    Cancellable schedule(Duration delay, Runnable task);

    /** A scheduled task that can be called off; cancelling a task that already ran does nothing. */
    interface Cancellable {
        void cancel();
    }
}
