package io.hacluster.db;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * The master's WAL position at recent monitor ticks, used to estimate how far behind in time a
 * replica is.
 *
 * <p>{@code now() - pg_last_xact_replay_timestamp()} alone grows without bound on an idle
 * primary, and after a long idle spell the first write makes an up-to-date replica look hours
 * behind. Instead: a replica that has replayed what the master had at tick T misses only WAL
 * written after T, so it is at most {@code now - T} behind; one that has replayed the newest
 * sample is not behind at all. The replay timestamp only tightens that bound. Bounded in size;
 * not thread-safe (the monitor's thread owns it).
 */
final class MasterPositionHistory {

    private final int capacity;
    /** (nanoTime taken just before the master was asked, its WAL position), oldest first. */
    private final ArrayDeque<long[]> samples = new ArrayDeque<>();

    MasterPositionHistory(int capacity) {
        this.capacity = capacity;
    }

    void record(long nanoTime, long walPosition) {
        samples.addLast(new long[] {nanoTime, walPosition});
        if (samples.size() > capacity) {
            samples.removeFirst();
        }
    }

    int size() {
        return samples.size();
    }

    /**
     * Estimated age in milliseconds of the oldest WAL a replica at {@code replay} has not
     * replayed: 0 if it has everything of the newest sample, -1 if there is no sample.
     *
     * @param replayAgeMillis {@code now() - pg_last_xact_replay_timestamp()} on the replica, or null
     */
    long lagMillis(long replay, Long replayAgeMillis, long nowNanos) {
        long[] newest = samples.peekLast();
        if (newest == null) {
            return -1;
        }
        if (Lsn.reached(replay, newest[1])) {
            return 0;
        }
        Iterator<long[]> newestFirst = samples.descendingIterator();
        while (newestFirst.hasNext()) {
            long[] sample = newestFirst.next();
            if (Lsn.reached(replay, sample[1])) {
                long atMost = Math.max(0, (nowNanos - sample[0]) / 1_000_000);
                return replayAgeMillis == null ? atMost : Math.min(atMost, replayAgeMillis);
            }
        }
        // Behind every sample kept: at least as old as the oldest one.
        long atLeast = Math.max(0, (nowNanos - samples.peekFirst()[0]) / 1_000_000);
        return replayAgeMillis == null ? atLeast : Math.max(atLeast, replayAgeMillis);
    }
}
