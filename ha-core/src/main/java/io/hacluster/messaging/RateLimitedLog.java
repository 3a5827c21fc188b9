package io.hacluster.messaging;

import org.slf4j.Logger;

/**
 * A log line that peers can provoke, written at most {@code burst} times per {@code interval}:
 * the lines in between are counted, and the next line written says how many were suppressed. One
 * instance per kind of event (never one per peer-supplied key, so an attacker cannot grow a map).
 * Thread-safe.
 */
public final class RateLimitedLog {

    private final Logger log;
    private final int burst;
    private final long intervalNanos;
    private long windowStart = Long.MIN_VALUE;
    private int writtenInWindow;
    private long suppressed;
    private long totalSuppressed;

    /**
     * @param log          where lines go
     * @param burst        lines written per interval before suppression starts
     * @param intervalMillis length of one window
     */
    public RateLimitedLog(Logger log, int burst, long intervalMillis) {
        if (burst < 1 || intervalMillis < 1) {
            throw new IllegalArgumentException("burst and interval must be positive");
        }
        this.log = log;
        this.burst = burst;
        this.intervalNanos = intervalMillis * 1_000_000L;
    }

    /** Logs at INFO unless this window's budget is spent; peer-supplied text must be escaped by the caller. */
    public void info(String format, Object... args) {
        String suffix = admit();
        if (suffix != null) {
            log.info(format + suffix, args);
        }
    }

    /** Logs at WARN unless this window's budget is spent. */
    public void warn(String format, Object... args) {
        String suffix = admit();
        if (suffix != null) {
            log.warn(format + suffix, args);
        }
    }

    /** Lines suppressed since creation. */
    public synchronized long suppressedTotal() {
        return totalSuppressed;
    }

    /** Null when the line is suppressed, else what to append ("" or the suppressed count). */
    private synchronized String admit() {
        long now = System.nanoTime();
        if (windowStart == Long.MIN_VALUE || now - windowStart >= intervalNanos) {
            windowStart = now;
            writtenInWindow = 0;
        }
        if (writtenInWindow >= burst) {
            suppressed++;
            totalSuppressed++;
            return null;
        }
        writtenInWindow++;
        if (suppressed == 0) {
            return "";
        }
        String suffix = " (" + suppressed + " similar lines suppressed)";
        suppressed = 0;
        return suffix;
    }
}
