package io.hacluster.metrics;

import java.util.function.Supplier;

/** A value recomputed at most once per period, so a scrape costs one router snapshot, not one per meter. */
final class CachedValue<T> {
    private final long periodNanos;
    private final Supplier<T> source;
    private long at;
    private T value;
    private boolean loaded;

    CachedValue(long periodMillis, Supplier<T> source) {
        this.periodNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(periodMillis);
        this.source = source;
    }

    synchronized T get() {
        long now = System.nanoTime();
        if (!loaded || now - at >= periodNanos) {
            value = source.get();
            at = now;
            loaded = true;
        }
        return value;
    }
}
