package io.hacluster.gossip;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The real-time {@link Scheduler}: one daemon thread named {@code ha-<node>-gossip} over
 * {@link System#nanoTime()}. A task that throws is logged and does not stop the thread. Tasks
 * submitted after {@link #close()} are silently ignored, since the node is shutting down.
 */
public final class SingleThreadScheduler implements Scheduler, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SingleThreadScheduler.class);

    private final ScheduledThreadPoolExecutor executor;
    private volatile Thread thread;

    /** Starts the thread for node {@code nodeName}. */
    public SingleThreadScheduler(String nodeName) {
        executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "ha-" + nodeName + "-gossip");
            t.setDaemon(true);
            thread = t;
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public long currentTimeMillis() {
        return System.currentTimeMillis();
    }

    @Override
    public void execute(Runnable task) {
        try {
            executor.execute(guard(task));
        } catch (RejectedExecutionException e) {
            log.trace("task after close ignored");
        }
    }

    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        try {
            ScheduledFuture<?> f = executor.schedule(guard(task), Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
            return () -> f.cancel(false);
        } catch (RejectedExecutionException e) {
            return () -> { };
        }
    }

    /** True when called from this scheduler's own thread. */
    boolean isCurrentThread() {
        return Thread.currentThread() == thread;
    }

    private static Runnable guard(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                log.error("gossip task failed", e);
            }
        };
    }

    /** Stops the thread; queued tasks are discarded. Idempotent. */
    @Override
    public void close() {
        executor.shutdownNow();
    }
}
