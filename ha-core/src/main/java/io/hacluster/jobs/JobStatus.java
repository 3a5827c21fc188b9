package io.hacluster.jobs;

import java.util.Locale;

/**
 * Where a job is in its life, with Mattermost's status names as stored in the database.
 *
 * <p>{@code PENDING → IN_PROGRESS → SUCCESS | ERROR | CANCELED}; {@code IN_PROGRESS →
 * CANCEL_REQUESTED → CANCELED}; a failed or abandoned attempt goes back to {@code PENDING} while
 * attempts remain.
 */
public enum JobStatus {
    /** Waiting for a worker, possibly not before its run-after time. */
    PENDING,
    /** Claimed by a worker, which heartbeats while it runs. */
    IN_PROGRESS,
    /** Finished without error. */
    SUCCESS,
    /** Failed on its last allowed attempt. */
    ERROR,
    /** Running, and asked to stop; its handler sees {@link JobContext#isCancelled()}. */
    CANCEL_REQUESTED,
    /** Stopped by a cancellation before or while running. */
    CANCELED;

    /** The name stored in the database ({@code in_progress}, ...). */
    public String dbName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the job can still run or is running: pending, in progress or cancel requested. */
    public boolean isActive() {
        return this == PENDING || this == IN_PROGRESS || this == CANCEL_REQUESTED;
    }

    static JobStatus fromDb(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}
