package io.hacluster.election;

import java.time.Duration;
import java.util.Objects;

/**
 * Timing of the leader lease, in the spirit of Kubernetes' leader election (lease 15 s, renew
 * deadline 10 s, retry 2 s).
 *
 * <p>The holder self-demotes once {@code renewDeadline} has passed on its local monotonic clock
 * since the start of its last successful acquire or renew; because {@code renewDeadline <
 * leaseDuration}, it stops acting as leader before the database can let another node take the
 * lease. The difference is the margin for clock-rate drift and for a stalled process noticing
 * late; the ratio of the defaults leaves a third of the lease.
 *
 * @param leaseDuration how long a grant or renewal lasts, measured by the database
 * @param renewDeadline how long the holder keeps acting as leader after the start of its last
 *     successful renewal, measured on its local monotonic clock; shorter than {@code leaseDuration}
 * @param retryPeriod how often the holder renews and a candidate tries to acquire; shorter than
 *     {@code renewDeadline}, so a failed renewal can be retried before the holder demotes itself
 */
public record LeaseSettings(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {

    /** Kubernetes' default lease duration. */
    public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(15);
    /** Kubernetes' default renew deadline. */
    public static final Duration DEFAULT_RENEW_DEADLINE = Duration.ofSeconds(10);
    /** Kubernetes' default retry period. */
    public static final Duration DEFAULT_RETRY_PERIOD = Duration.ofSeconds(2);

    /**
     * @throws IllegalArgumentException if a duration is not positive, if {@code renewDeadline} is
     *     not shorter than {@code leaseDuration}, or {@code retryPeriod} not shorter than
     *     {@code renewDeadline}
     */
    public LeaseSettings {
        Objects.requireNonNull(leaseDuration, "leaseDuration");
        Objects.requireNonNull(renewDeadline, "renewDeadline");
        Objects.requireNonNull(retryPeriod, "retryPeriod");
        requirePositive("leaseDuration", leaseDuration);
        requirePositive("renewDeadline", renewDeadline);
        requirePositive("retryPeriod", retryPeriod);
        if (renewDeadline.compareTo(leaseDuration) >= 0) {
            throw new IllegalArgumentException("renewDeadline (" + renewDeadline + ") must be shorter than "
                    + "leaseDuration (" + leaseDuration + "): the holder must stop leading before the lease "
                    + "can expire in the database");
        }
        if (retryPeriod.compareTo(renewDeadline) >= 0) {
            throw new IllegalArgumentException("retryPeriod (" + retryPeriod + ") must be shorter than "
                    + "renewDeadline (" + renewDeadline + "): a failed renewal needs a retry before the deadline");
        }
    }

    /** Lease 15 s, renew deadline 10 s, retry 2 s. */
    public static LeaseSettings defaults() {
        return new LeaseSettings(DEFAULT_LEASE_DURATION, DEFAULT_RENEW_DEADLINE, DEFAULT_RETRY_PERIOD);
    }

    /** A copy with another lease duration. */
    public LeaseSettings withLeaseDuration(Duration value) {
        return new LeaseSettings(value, renewDeadline, retryPeriod);
    }

    /** A copy with another renew deadline. */
    public LeaseSettings withRenewDeadline(Duration value) {
        return new LeaseSettings(leaseDuration, value, retryPeriod);
    }

    /** A copy with another retry period. */
    public LeaseSettings withRetryPeriod(Duration value) {
        return new LeaseSettings(leaseDuration, renewDeadline, value);
    }

    private static void requirePositive(String name, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
