package io.hacluster.gossip.netty;

import java.util.concurrent.atomic.AtomicInteger;

/** Caps the inbound streams open at once, as memberlist caps concurrent push/pull requests. */
final class StreamSlots {
    private final int limit;
    private final AtomicInteger used = new AtomicInteger();

    StreamSlots(int limit) {
        this.limit = limit;
    }

    boolean tryAcquire() {
        while (true) {
            int now = used.get();
            if (now >= limit) {
                return false;
            }
            if (used.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    void release() {
        used.decrementAndGet();
    }

    int inUse() {
        return used.get();
    }
}
