package io.hacluster.db;

import java.util.concurrent.atomic.LongAdder;

/** Monotonic counters shared by a router's servers across reloads. */
final class RouterCounters {
    final LongAdder replicaFallbacks = new LongAdder();
    final LongAdder searchFallbacks = new LongAdder();
    final LongAdder tokenFallbacks = new LongAdder();
    final LongAdder readRetries = new LongAdder();
    final LongAdder evictions = new LongAdder();
    final LongAdder markedDown = new LongAdder();
}
