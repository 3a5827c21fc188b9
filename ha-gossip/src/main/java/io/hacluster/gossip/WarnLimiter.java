package io.hacluster.gossip;

import org.slf4j.Logger;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Rate-limits repeated warnings that a peer can trigger at will: per kind of warning, at most one
 * line per interval; the next line that is written says how many were suppressed since the last
 * one. Without it a flood of bad packets becomes a flood of log lines (disk, log shipping, the
 * operator's attention). Thread-safe; the kinds are a small fixed set chosen by the caller, never
 * peer-supplied text.
 */
final class WarnLimiter {

    private final Logger log;
    private final long intervalNanos;
    private final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();

    private static final class Slot {
        final AtomicLong nextAllowedNanos = new AtomicLong(Long.MIN_VALUE);
        final AtomicLong suppressed = new AtomicLong();
    }

    WarnLimiter(Logger log, java.time.Duration interval) {
        this.log = log;
        this.intervalNanos = interval.toNanos();
    }

    /**
     * Logs {@code message} (already escaped) at WARN unless a line of the same {@code kind} was
     * written less than an interval ago, in which case it is only counted.
     *
     * @return true when the line was written
     */
    boolean warn(String kind, String message) {
        return write(kind, message, true);
    }

    /** As {@link #warn}, at INFO: for events that are normal once but can be forged in a flood. */
    boolean info(String kind, String message) {
        return write(kind, message, false);
    }

    private boolean write(String kind, String message, boolean warn) {
        Slot slot = slots.computeIfAbsent(kind, k -> new Slot());
        long now = System.nanoTime();
        long next = slot.nextAllowedNanos.get();
        if ((next != Long.MIN_VALUE && now - next < 0) || !slot.nextAllowedNanos.compareAndSet(next, now + intervalNanos)) {
            slot.suppressed.incrementAndGet();
            return false;
        }
        long dropped = slot.suppressed.getAndSet(0);
        String line = dropped > 0 ? message + " (" + dropped + " similar lines suppressed)" : message;
        if (warn) {
            log.warn(line);
        } else {
            log.info(line);
        }
        return true;
    }

    /** Warnings of {@code kind} not written since the last written one. */
    long suppressed(String kind) {
        Slot slot = slots.get(kind);
        return slot == null ? 0 : slot.suppressed.get();
    }
}
