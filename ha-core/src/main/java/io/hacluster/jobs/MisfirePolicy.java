package io.hacluster.jobs;

/**
 * What the leader does with periodic slots that passed while no node could create them (the
 * whole cluster was down, or had no leader for longer than the period). A slot whose row already
 * exists is never missed: rows are created one slot ahead, and any worker runs a due row with or
 * without a leader.
 */
public enum MisfirePolicy {
    /** Create no missed slot; the next run is the next slot in the future. */
    SKIP,
    /** Create only the latest missed slot, so the job runs once now and then on schedule. */
    RUN_LATEST,
    /**
     * Create every missed slot, oldest first, at most {@link JobServer#MAX_CATCH_UP} of them (the
     * latest ones); for jobs where each slot stands for its own period of data.
     */
    RUN_ALL
}
