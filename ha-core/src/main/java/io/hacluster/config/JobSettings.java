package io.hacluster.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The {@code JobSettings} section of a Mattermost-shaped {@code config.json}: whether this node
 * runs jobs and schedules them, and how long finished jobs are kept.
 *
 * <p>JSON names and defaults are Mattermost's. Mattermost's HA guide asks for
 * {@code RunScheduler = true} on every node (only the leader actually schedules, and any node can
 * become leader), while {@code RunJobs} may differ per node (dedicated job servers); so
 * {@code RunJobs} is left out of the {@linkplain HaConfig#hash() configuration hash}, and so is
 * {@code RunScheduler} (a job-only node that never leads is a supported topology); the rest of
 * the section is in it. That includes the leader election's settings ({@code Leader...}, not
 * Mattermost's): every node must time the lease alike, since a node that believes in a longer
 * renew deadline than another's lease would lead past the moment the other may take over.
 *
 * <p>A value, not validated on construction. Build one with {@link #builder()} or
 * {@link #defaults()}.
 *
 * @param runJobs this node runs jobs that were scheduled ({@code RunJobs}, default true)
 * @param runScheduler this node schedules recurring jobs while it is the cluster leader
 *     ({@code RunScheduler}, default true)
 * @param cleanupJobsThresholdDays finished jobs older than this many days are deleted; negative
 *     means never ({@code CleanupJobsThresholdDays}, default -1)
 * @param cleanupConfigThresholdDays configurations stored in the database older than this many
 *     days are deleted; negative means never. Mattermost's; ha-cluster keeps no configuration in
 *     the database and does not act on it ({@code CleanupConfigThresholdDays}, default -1)
 * @param leaderLeaseMilliseconds how long a grant or renewal of the leader lease lasts, measured
 *     by the database ({@code LeaderLeaseMilliseconds}, default 15000; ha-cluster's, not
 *     Mattermost's). Used with a database, unless the application gives
 *     {@code ClusterNodeBuilder.leaseSettings(...)}
 * @param leaderRenewDeadlineMilliseconds how long the leader keeps leading after its last
 *     successful renewal was sent, on its monotonic clock; less than the lease
 *     ({@code LeaderRenewDeadlineMilliseconds}, default 10000)
 * @param leaderRetryPeriodMilliseconds how often the leader renews and candidates try to acquire;
 *     less than the renew deadline ({@code LeaderRetryPeriodMilliseconds}, default 2000)
 * @param leaderElectionQuorum minimum number of live members (this node included) for a leader;
 *     0 for none ({@code LeaderElectionQuorum}, default 0). Used unless the application gives
 *     {@code ClusterNodeBuilder.electionQuorum(...)}
 */
public record JobSettings(
        @JsonProperty("RunJobs") boolean runJobs,
        @JsonProperty("RunScheduler") boolean runScheduler,
        @JsonProperty("CleanupJobsThresholdDays") int cleanupJobsThresholdDays,
        @JsonProperty("CleanupConfigThresholdDays") int cleanupConfigThresholdDays,
        @JsonProperty("LeaderLeaseMilliseconds") long leaderLeaseMilliseconds,
        @JsonProperty("LeaderRenewDeadlineMilliseconds") long leaderRenewDeadlineMilliseconds,
        @JsonProperty("LeaderRetryPeriodMilliseconds") long leaderRetryPeriodMilliseconds,
        @JsonProperty("LeaderElectionQuorum") int leaderElectionQuorum) {

    /** Section name in {@code config.json}. */
    public static final String SECTION = "JobSettings";

    /** Default of {@link #leaderLeaseMilliseconds()}: Kubernetes' lease duration. */
    public static final long DEFAULT_LEADER_LEASE_MILLISECONDS = 15_000;
    /** Default of {@link #leaderRenewDeadlineMilliseconds()}: Kubernetes' renew deadline. */
    public static final long DEFAULT_LEADER_RENEW_DEADLINE_MILLISECONDS = 10_000;
    /** Default of {@link #leaderRetryPeriodMilliseconds()}: Kubernetes' retry period. */
    public static final long DEFAULT_LEADER_RETRY_PERIOD_MILLISECONDS = 2_000;

    /**
     * The four Mattermost fields with the election settings at their defaults, as the first
     * release of this section had it.
     */
    public JobSettings(boolean runJobs, boolean runScheduler, int cleanupJobsThresholdDays,
                       int cleanupConfigThresholdDays) {
        this(runJobs, runScheduler, cleanupJobsThresholdDays, cleanupConfigThresholdDays,
                DEFAULT_LEADER_LEASE_MILLISECONDS, DEFAULT_LEADER_RENEW_DEADLINE_MILLISECONDS,
                DEFAULT_LEADER_RETRY_PERIOD_MILLISECONDS, 0);
    }

    /** Field values, with anything that looks like a password masked (a DSN pasted into the wrong field). */
    @Override
    public String toString() {
        return MaskedRecords.toString(this);
    }

    /** Every field at its default. */
    public static JobSettings defaults() {
        return builder().build();
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this value. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Mutable builder for {@link JobSettings}; starts from the defaults. */
    public static final class Builder {
        private boolean runJobs = true;
        private boolean runScheduler = true;
        private int cleanupJobsThresholdDays = -1;
        private int cleanupConfigThresholdDays = -1;
        private long leaderLeaseMilliseconds = DEFAULT_LEADER_LEASE_MILLISECONDS;
        private long leaderRenewDeadlineMilliseconds = DEFAULT_LEADER_RENEW_DEADLINE_MILLISECONDS;
        private long leaderRetryPeriodMilliseconds = DEFAULT_LEADER_RETRY_PERIOD_MILLISECONDS;
        private int leaderElectionQuorum = 0;

        private Builder() {
        }

        private Builder(JobSettings s) {
            runJobs = s.runJobs;
            runScheduler = s.runScheduler;
            cleanupJobsThresholdDays = s.cleanupJobsThresholdDays;
            cleanupConfigThresholdDays = s.cleanupConfigThresholdDays;
            leaderLeaseMilliseconds = s.leaderLeaseMilliseconds;
            leaderRenewDeadlineMilliseconds = s.leaderRenewDeadlineMilliseconds;
            leaderRetryPeriodMilliseconds = s.leaderRetryPeriodMilliseconds;
            leaderElectionQuorum = s.leaderElectionQuorum;
        }

        /** @see JobSettings#runJobs() */
        public Builder runJobs(boolean value) {
            runJobs = value;
            return this;
        }

        /** @see JobSettings#runScheduler() */
        public Builder runScheduler(boolean value) {
            runScheduler = value;
            return this;
        }

        /** @see JobSettings#cleanupJobsThresholdDays() */
        public Builder cleanupJobsThresholdDays(int value) {
            cleanupJobsThresholdDays = value;
            return this;
        }

        /** @see JobSettings#cleanupConfigThresholdDays() */
        public Builder cleanupConfigThresholdDays(int value) {
            cleanupConfigThresholdDays = value;
            return this;
        }

        /** @see JobSettings#leaderLeaseMilliseconds() */
        public Builder leaderLeaseMilliseconds(long value) {
            leaderLeaseMilliseconds = value;
            return this;
        }

        /** @see JobSettings#leaderRenewDeadlineMilliseconds() */
        public Builder leaderRenewDeadlineMilliseconds(long value) {
            leaderRenewDeadlineMilliseconds = value;
            return this;
        }

        /** @see JobSettings#leaderRetryPeriodMilliseconds() */
        public Builder leaderRetryPeriodMilliseconds(long value) {
            leaderRetryPeriodMilliseconds = value;
            return this;
        }

        /** @see JobSettings#leaderElectionQuorum() */
        public Builder leaderElectionQuorum(int value) {
            leaderElectionQuorum = value;
            return this;
        }

        /** The settings; not validated here (see {@link HaConfig}). */
        public JobSettings build() {
            return new JobSettings(runJobs, runScheduler, cleanupJobsThresholdDays, cleanupConfigThresholdDays,
                    leaderLeaseMilliseconds, leaderRenewDeadlineMilliseconds, leaderRetryPeriodMilliseconds,
                    leaderElectionQuorum);
        }
    }
}
