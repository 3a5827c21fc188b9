package io.hacluster.messaging;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on a shared pool: gives per-sender FIFO handler
 * execution while senders run in parallel. At most one drain task per instance sits in the pool,
 * and a drain yields after a batch so one busy sender cannot starve the others.
 */
final class SerialExecutor {

    private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);
    private static final int BATCH = 64;

    /** The executor whose task the current thread is running, if any. */
    private static final ThreadLocal<SerialExecutor> RUNNING = new ThreadLocal<>();

    private final Executor pool;
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private boolean scheduled;

    SerialExecutor(Executor pool) {
        this.pool = pool;
    }

    /** Queues a task; returns the number of tasks now waiting (including this one). */
    int execute(Runnable task) {
        int size;
        synchronized (this) {
            tasks.add(task);
            size = tasks.size();
            if (scheduled) {
                return size;
            }
            scheduled = true;
        }
        submitDrain();
        return size;
    }

    synchronized int size() {
        return tasks.size();
    }

    /** The executor whose task runs on the calling thread (a handler), or null. */
    static SerialExecutor current() {
        return RUNNING.get();
    }

    /** True when no task waits and none is running. */
    synchronized boolean idle() {
        return tasks.isEmpty() && !scheduled;
    }

    private void submitDrain() {
        try {
            pool.execute(this::drain);
        } catch (RejectedExecutionException e) {
            int dropped;
            synchronized (this) {
                dropped = tasks.size();
                tasks.clear();
                scheduled = false;
            }
            log.debug("handler pool shut down; {} queued deliveries dropped", dropped);
        }
    }

    private void drain() {
        for (int i = 0; i < BATCH; i++) {
            Runnable task;
            synchronized (this) {
                task = tasks.poll();
                if (task == null) {
                    scheduled = false;
                    return;
                }
            }
            RUNNING.set(this);
            try {
                task.run();
            } catch (Throwable t) {
                log.error("delivery task failed", t);
            } finally {
                RUNNING.remove();
            }
        }
        synchronized (this) {
            if (tasks.isEmpty()) {
                scheduled = false;
                return;
            }
        }
        submitDrain();
    }
}
