package io.hacluster.jobs;

import java.time.Duration;
import java.util.Objects;

/**
 * Timing and retry settings of the job server. All durations are measured by the database except
 * the poll and heartbeat periods, which only say how often this node asks.
 *
 * @param pollInterval how often idle workers look for due jobs (a local submit or a finished job
 *     wakes them at once)
 * @param heartbeatInterval how often a node heartbeats its running jobs and learns of
 *     cancellations; a cancel reaches a running handler within about this
 * @param abandonedAfter a running job without a heartbeat for this long, in database time, goes
 *     back to pending (its worker crashed or is cut off) and runs elsewhere
 * @param maxAttempts claims a job gets before it ends in error
 * @param backoffBase the first retry waits this long; each further one twice as long
 * @param backoffMax the longest retry wait
 * @param statementTimeout bound of each job statement
 * @param drainTimeout how long {@link JobServer#close()} lets running handlers finish before it
 *     interrupts them and hands their jobs back
 */
public record JobServerSettings(Duration pollInterval, Duration heartbeatInterval, Duration abandonedAfter,
                                int maxAttempts, Duration backoffBase, Duration backoffMax,
                                Duration statementTimeout, Duration drainTimeout) {

    public JobServerSettings {
        positive("pollInterval", pollInterval);
        positive("heartbeatInterval", heartbeatInterval);
        positive("abandonedAfter", abandonedAfter);
        positive("backoffBase", backoffBase);
        positive("backoffMax", backoffMax);
        positive("statementTimeout", statementTimeout);
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        if (drainTimeout.isNegative()) {
            throw new IllegalArgumentException("drainTimeout must not be negative, got " + drainTimeout);
        }
        if (abandonedAfter.compareTo(heartbeatInterval.multipliedBy(3)) < 0) {
            throw new IllegalArgumentException("abandonedAfter (" + abandonedAfter + ") must be at least three "
                    + "heartbeat intervals (" + heartbeatInterval + "), or a slow heartbeat hands a live job to "
                    + "another worker");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
        }
        if (backoffMax.compareTo(backoffBase) < 0) {
            throw new IllegalArgumentException("backoffMax (" + backoffMax + ") must not be below backoffBase ("
                    + backoffBase + ")");
        }
    }

    /**
     * Poll 250 ms, heartbeat 500 ms, abandoned after 15 s, 3 attempts, backoff 1 s doubling to
     * 1 min, statements 5 s, drain 10 s.
     */
    public static JobServerSettings defaults() {
        return new JobServerSettings(Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(15), 3,
                Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    /** A copy with another abandonment timeout. */
    public JobServerSettings withAbandonedAfter(Duration value) {
        return new JobServerSettings(pollInterval, heartbeatInterval, value, maxAttempts, backoffBase, backoffMax,
                statementTimeout, drainTimeout);
    }

    /** A copy with other retry settings. */
    public JobServerSettings withRetries(int attempts, Duration base, Duration max) {
        return new JobServerSettings(pollInterval, heartbeatInterval, abandonedAfter, attempts, base, max,
                statementTimeout, drainTimeout);
    }

    /** A copy with other poll and heartbeat periods. */
    public JobServerSettings withPolling(Duration poll, Duration heartbeat) {
        return new JobServerSettings(poll, heartbeat, abandonedAfter, maxAttempts, backoffBase, backoffMax,
                statementTimeout, drainTimeout);
    }

    /** A copy with another drain timeout. */
    public JobServerSettings withDrainTimeout(Duration value) {
        return new JobServerSettings(pollInterval, heartbeatInterval, abandonedAfter, maxAttempts, backoffBase,
                backoffMax, statementTimeout, value);
    }

    private static void positive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }
}
