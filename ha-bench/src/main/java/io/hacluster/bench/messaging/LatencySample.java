package io.hacluster.bench.messaging;

import java.util.Arrays;

/** Send-to-ack latencies in nanoseconds, summarised as percentiles. */
final class LatencySample {

    private long[] values;
    private int size;

    LatencySample(int capacity) {
        values = new long[Math.max(16, capacity)];
    }

    synchronized void add(long nanos) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = nanos;
    }

    synchronized int size() {
        return size;
    }

    /** The p-th percentile (0..100) in microseconds. */
    synchronized double percentileMicros(double p) {
        if (size == 0) {
            return Double.NaN;
        }
        long[] sorted = Arrays.copyOf(values, size);
        Arrays.sort(sorted);
        int idx = (int) Math.min(size - 1, Math.ceil(p / 100.0 * size) - 1);
        return sorted[Math.max(0, idx)] / 1000.0;
    }
}
