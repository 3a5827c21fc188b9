package io.hacluster;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Samples {@code isLeader()} of every node every 2 ms on its own thread and keeps each change,
 * with the time of the sample that saw it and of the sample before. The time of a sample is read
 * <em>before</em> {@code isLeader()} is called: a {@code true} answer was therefore still true at
 * that time, so "the last true sample came before X" is exact whatever the sampler's scheduling.
 */
final class LeadershipSampler implements AutoCloseable {

    /**
     * A change of one node's {@code isLeader()}.
     *
     * @param node index in the list sampled
     * @param leading the new value
     * @param at nanoTime of the sample that saw it
     * @param previousAt nanoTime of that node's previous sample (which still saw the old value)
     */
    record Change(int node, boolean leading, long at, long previousAt) {
    }

    /** A sampling round in which more than one node said it leads. */
    record Overlap(long at, List<Integer> nodes) {
    }

    private static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    /** A hard bound on the sampling thread, whatever the test does. */
    private static final long MAX_NANOS = TimeUnit.MINUTES.toNanos(15);

    private final List<ClusterNode> nodes;
    private final List<Change> changes = new CopyOnWriteArrayList<>();
    private final List<Overlap> overlaps = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long rounds;

    LeadershipSampler(List<ClusterNode> nodes) {
        this.nodes = List.copyOf(nodes);
        thread = new Thread(this::run, "leadership-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        int n = nodes.size();
        boolean[] last = new boolean[n];
        long[] lastAt = new long[n];
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            lastAt[i] = start;
            last[i] = nodes.get(i).isLeader();
        }
        while (running && System.nanoTime() - start < MAX_NANOS) {
            List<Integer> leading = new ArrayList<>(1);
            for (int i = 0; i < n; i++) {
                long t = System.nanoTime();
                boolean v = nodes.get(i).isLeader();
                if (v) {
                    leading.add(i);
                }
                if (v != last[i]) {
                    changes.add(new Change(i, v, t, lastAt[i]));
                    last[i] = v;
                }
                lastAt[i] = t;
            }
            if (leading.size() > 1) {
                overlaps.add(new Overlap(System.nanoTime(), leading));
            }
            rounds++;
            LockSupport.parkNanos(PERIOD_NANOS);
        }
    }

    /** The changes seen so far, in order. */
    List<Change> changes() {
        return List.copyOf(changes);
    }

    /** Rounds in which two or more nodes said they lead. */
    List<Overlap> overlaps() {
        return List.copyOf(overlaps);
    }

    /** How many rounds ran: a check that the sampler sampled at all. */
    long rounds() {
        return rounds;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(TimeUnit.SECONDS.toMillis(10));
    }
}
