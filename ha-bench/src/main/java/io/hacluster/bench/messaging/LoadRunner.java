package io.hacluster.bench.messaging;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/** Drives a {@link BroadcastCluster} with one sender thread per node. */
final class LoadRunner {

    private final BroadcastCluster cluster;
    private final byte[] payload;

    LoadRunner(BroadcastCluster cluster, byte[] payload) {
        this.cluster = cluster;
        this.payload = payload;
    }

    /**
     * Closed loop: every node sends {@code perNode} broadcasts keeping at most {@code window}
     * outstanding; latency is measured from the actual send call.
     */
    PhaseResult peak(String phase, int perNode, int window) throws InterruptedException {
        LatencySample lat = new LatencySample(perNode * 3);
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int node = 0; node < 3; node++) {
            int from = node;
            Thread t = new Thread(() -> {
                Semaphore outstanding = new Semaphore(window);
                for (int i = 0; i < perNode; i++) {
                    outstanding.acquireUninterruptibly();
                    long t0 = System.nanoTime();
                    cluster.broadcast(from, payload).whenComplete((v, e) -> {
                        lat.add(System.nanoTime() - t0);
                        (e == null ? ok : failed).incrementAndGet();
                        outstanding.release();
                    });
                }
                outstanding.acquireUninterruptibly(window); // wait for the tail
            }, "bench-sender-" + node);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new PhaseResult(cluster.name(), phase, ok.get(), seconds, failed.get(),
                lat.percentileMicros(50), lat.percentileMicros(99), lat.percentileMicros(99.9));
    }

    /**
     * Open loop at {@code totalRate} broadcasts/s for {@code seconds}: sends follow a fixed
     * schedule and latency is measured from the scheduled time, so a stall is not hidden by the
     * sender waiting (no coordinated omission). At most {@code maxOutstanding} per node may be in
     * flight; a send that would exceed it counts as a failure.
     */
    PhaseResult paced(String phase, double totalRate, double seconds, int maxOutstanding) throws InterruptedException {
        double perNodeRate = totalRate / 3;
        long intervalNs = (long) (1e9 / perNodeRate);
        int perNode = (int) (perNodeRate * seconds);
        LatencySample lat = new LatencySample(perNode * 3);
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        for (int node = 0; node < 3; node++) {
            int from = node;
            long offset = intervalNs * node / 3; // spread the three senders within an interval
            Thread t = new Thread(() -> {
                Semaphore outstanding = new Semaphore(maxOutstanding);
                for (int i = 0; i < perNode; i++) {
                    long scheduled = start + offset + i * intervalNs;
                    long wait;
                    // park, never spin: three spinning pacers would starve the system under test
                    // on a small machine; a send a few microseconds late is charged to the latency
                    while ((wait = scheduled - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    if (!outstanding.tryAcquire()) {
                        failed.incrementAndGet();
                        continue;
                    }
                    cluster.broadcast(from, payload).whenComplete((v, e) -> {
                        lat.add(System.nanoTime() - scheduled);
                        (e == null ? ok : failed).incrementAndGet();
                        outstanding.release();
                    });
                }
                try {
                    outstanding.tryAcquire(maxOutstanding, 60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-pacer-" + node);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return new PhaseResult(cluster.name(), phase, ok.get(), elapsed, failed.get(),
                lat.percentileMicros(50), lat.percentileMicros(99), lat.percentileMicros(99.9));
    }
}
