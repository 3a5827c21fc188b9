package io.hacluster.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The {@code JobSettings} section of a Mattermost-shaped {@code config.json}: whether this node
 * runs jobs and schedules them, and how long finished jobs are kept.
 *
 * <p>JSON names and defaults are Mattermost's. Mattermost's HA guide asks for
 * {@code RunScheduler = true} on every node (only the leader actually schedules, and any node can
 * become leader), while {@code RunJobs} may differ per node (dedicated job servers); so
 * {@code RunJobs} is left out of the {@linkplain HaConfig#hash() configuration hash} and the rest
 * of the section is in it.
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
 */
public record JobSettings(
        @JsonProperty("RunJobs") boolean runJobs,
        @JsonProperty("RunScheduler") boolean runScheduler,
        @JsonProperty("CleanupJobsThresholdDays") int cleanupJobsThresholdDays,
        @JsonProperty("CleanupConfigThresholdDays") int cleanupConfigThresholdDays) {

    /** Section name in {@code config.json}. */
    public static final String SECTION = "JobSettings";

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

        private Builder() {
        }

        private Builder(JobSettings s) {
            runJobs = s.runJobs;
            runScheduler = s.runScheduler;
            cleanupJobsThresholdDays = s.cleanupJobsThresholdDays;
            cleanupConfigThresholdDays = s.cleanupConfigThresholdDays;
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

        /** The settings. */
        public JobSettings build() {
            return new JobSettings(runJobs, runScheduler, cleanupJobsThresholdDays, cleanupConfigThresholdDays);
        }
    }
}
