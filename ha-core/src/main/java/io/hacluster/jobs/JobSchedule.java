package io.hacluster.jobs;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * When a periodic job is due: a sequence of slots that every node computes the same way, so the
 * leader can continue from the last slot in the database instead of from a timer in memory.
 */
public sealed interface JobSchedule permits IntervalSchedule, CronSchedule {

    /**
     * Every {@code interval}, on multiples of it since the Unix epoch (an hourly job runs on the
     * hour, whichever node schedules it).
     *
     * @throws IllegalArgumentException if the interval is under a second or not whole milliseconds
     */
    static JobSchedule every(Duration interval) {
        return new IntervalSchedule(interval);
    }

    /**
     * A Unix cron expression (five fields: minute, hour, day of month, month, day of week), in UTC.
     *
     * @throws IllegalArgumentException with the parser's reason if the expression is invalid
     */
    static JobSchedule cron(String expression) {
        return new CronSchedule(expression, ZoneOffset.UTC);
    }

    /** A Unix cron expression evaluated in {@code zone} (daylight-saving gaps skip a slot). */
    static JobSchedule cron(String expression, ZoneId zone) {
        return new CronSchedule(expression, zone);
    }

    /** The first slot strictly after {@code t}. */
    Instant nextAfter(Instant t);

    /** The latest slot strictly before {@code t}; empty if there is none. */
    java.util.Optional<Instant> previousBefore(Instant t);
}
