package io.hacluster.election;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the world about leader changes: one log line per change of the leader or of this node's
 * leadership (with its epoch, token and cause), the listeners on their own thread
 * {@code ha-<id>-leader-listeners} (one at a time, in order, never on the election thread and
 * never under its locks), and the threads waiting in {@link #await}.
 */
final class LeaderPublisher {

    private static final Logger LOG = LoggerFactory.getLogger(Election.class);

    private final String self;
    private final String cluster;
    private final List<Consumer<LeaderChange>> listeners;
    private final ExecutorService listenerThread;
    private final Object monitor = new Object();
    /** Election thread only. */
    private LeaderChange lastPublished;

    LeaderPublisher(String self, String cluster, List<Consumer<LeaderChange>> listeners) {
        this.self = self;
        this.cluster = cluster;
        this.listeners = listeners;
        this.listenerThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ha-" + self + "-leader-listeners");
            t.setDaemon(true);
            return t;
        });
    }

    /** Election thread: reports {@code leader} and {@code local} if they differ from what was last reported. */
    void publish(Optional<LeaderInfo> leader, boolean local, String cause) {
        LeaderChange last = lastPublished;
        if (last != null && last.leader().equals(leader) && last.local() == local) {
            return;
        }
        LeaderChange change = new LeaderChange(leader, local, cause);
        lastPublished = change;
        if (last == null && leader.isEmpty()) {
            return;  // nothing to report before the first leader
        }
        if (leader.isPresent()) {
            LeaderInfo l = leader.get();
            LOG.info("Cluster {} leader is {}{} (epoch {}, fencing token {}): {}", cluster, l.id(),
                    local ? " (this node)" : "", l.epoch(), l.fencingToken(), cause);
        } else {
            LeaderInfo before = last == null ? null : last.leader().orElse(null);
            LOG.info("Cluster {} has no leader{}: {}", cluster,
                    before == null ? "" : " (was " + before.id() + ", epoch " + before.epoch() + ")", cause);
        }
        List<Consumer<LeaderChange>> targets = new ArrayList<>(listeners);
        try {
            listenerThread.execute(() -> {
                for (Consumer<LeaderChange> l : targets) {
                    try {
                        l.accept(change);
                    } catch (RuntimeException e) {
                        LOG.warn("node {}: a leader listener failed: {}", self, e.toString());
                    }
                }
            });
        } catch (RejectedExecutionException stopping) {
            // closed: nobody listens any more
        }
        wake();
    }

    /** Wakes the waiters of {@link #await}, e.g. after a change nobody publishes. */
    void wake() {
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }

    /** Waits until {@code leader} yields one, at most {@code timeout}. */
    Optional<LeaderInfo> await(Supplier<Optional<LeaderInfo>> leader, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (monitor) {
            while (true) {
                Optional<LeaderInfo> l = leader.get();
                long left = deadline - System.nanoTime();
                if (l.isPresent() || left <= 0) {
                    return l;
                }
                // woken by every publish; the bound covers a self-demotion nobody publishes
                TimeUnit.NANOSECONDS.timedWait(monitor, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
            }
        }
    }

    /** Lets queued notifications run (bounded), then stops the listener thread. */
    void close() {
        listenerThread.shutdown();
        try {
            listenerThread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops at once, as a crash. */
    void halt() {
        listenerThread.shutdownNow();
    }
}
