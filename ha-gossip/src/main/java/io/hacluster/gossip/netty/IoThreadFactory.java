package io.hacluster.gossip.netty;

import io.netty.util.concurrent.FastThreadLocalThread;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Daemon threads named {@code ha-<node>-gossip-io}, numbered only when there are several. */
final class IoThreadFactory implements ThreadFactory {
    private final String baseName;
    private final boolean numbered;
    private final AtomicInteger next = new AtomicInteger();

    IoThreadFactory(String nodeName, int threads) {
        this.baseName = "ha-" + nodeName + "-gossip-io";
        this.numbered = threads > 1;
    }

    @Override
    public Thread newThread(Runnable task) {
        String name = numbered ? baseName + "-" + next.incrementAndGet() : baseName;
        Thread thread = new FastThreadLocalThread(task, name);
        thread.setDaemon(true);
        return thread;
    }
}
