package io.hacluster.messaging;

import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Daemon threads named {@code ha-<node>-<role>-N}; Netty-friendly (fast thread locals). */
final class NamedThreadFactory implements ThreadFactory {

    private final String prefix;
    private final AtomicInteger next = new AtomicInteger(1);

    NamedThreadFactory(String nodeId, String role) {
        this.prefix = "ha-" + nodeId + "-" + role + "-";
    }

    @Override
    public Thread newThread(Runnable r) {
        Thread t = new FastThreadLocalThread(r, prefix + next.getAndIncrement());
        t.setDaemon(true);
        return t;
    }
}
