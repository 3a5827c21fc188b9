package io.hacluster.jobs;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/** {@link JobSchedule#every}: slots on multiples of the interval since the Unix epoch. */
record IntervalSchedule(Duration interval) implements JobSchedule {

    IntervalSchedule {
        Objects.requireNonNull(interval, "interval");
        if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("a periodic job's interval must be at least 1 s, got " + interval);
        }
        if (interval.getNano() % 1_000_000 != 0) {
            throw new IllegalArgumentException("a periodic job's interval must be whole milliseconds, got " + interval);
        }
    }

    @Override
    public Instant nextAfter(Instant t) {
        long every = interval.toMillis();
        long millis = t.toEpochMilli();  // truncates sub-millisecond time, which only moves t back
        return Instant.ofEpochMilli(Math.floorDiv(millis, every) * every + every);
    }

    @Override
    public Optional<Instant> previousBefore(Instant t) {
        long every = interval.toMillis();
        long millis = t.toEpochMilli();
        boolean exact = Math.floorMod(millis, every) == 0 && t.getNano() % 1_000_000 == 0;
        long floor = Math.floorDiv(millis, every) * every;
        return Optional.of(Instant.ofEpochMilli(exact ? floor - every : floor));
    }

    @Override
    public String toString() {
        return "every " + interval;
    }
}
