package io.hacluster.jobs;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a running handler gets: its job, the claim's fencing token, cancellation, and fenced
 * progress and data updates that every node sees.
 *
 * <p>A claim can be lost while the handler runs: a cancel, or this node stopped heartbeating
 * long enough (a stall, a cut to the database) that the job went back to pending and another
 * worker may run it. Then {@link #isCancelled()} turns true, the handler's thread is interrupted,
 * updates through this context are refused, and {@link #holdsClaim} is false in the handler's own
 * transactions: that is how a handler keeps a second run from writing twice.
 */
public final class JobContext {

    private final Job job;
    private final JobStore store;
    private final Map<String, String> data;
    private volatile boolean cancelRequested;
    private volatile boolean claimLost;
    private Thread runner;

    JobContext(Job job, JobStore store) {
        this.job = job;
        this.store = store;
        this.data = new LinkedHashMap<>(job.data());
    }

    /** The job as it was claimed. */
    public Job job() {
        return job;
    }

    /** The claim's fencing token: greater than the token of every earlier claim of any job. */
    public long fencingToken() {
        return job.fencingToken();
    }

    /** Whether the handler should stop: a cancel was requested, or the claim was lost. */
    public boolean isCancelled() {
        return cancelRequested || claimLost;
    }

    /** Whether the claim was taken back (the job may run elsewhere now). */
    public boolean isClaimLost() {
        return claimLost;
    }

    /**
     * Records progress (0 to 100) in the job row. Returns false when the claim no longer holds
     * (nothing is written then).
     */
    public boolean setProgress(int percent) throws SQLException {
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("progress must be 0 to 100, got " + percent);
        }
        return !claimLost && store.progress(job.id(), job.fencingToken(), percent);
    }

    /**
     * Adds or replaces one data entry in the job row (Mattermost handlers keep cursors there).
     * Returns false when the claim no longer holds.
     */
    public boolean putData(String key, String value) throws SQLException {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Map<String, String> next;
        synchronized (data) {
            data.put(key, value);
            next = Map.copyOf(data);
        }
        return !claimLost && store.data(job.id(), job.fencingToken(), next);
    }

    /** The data as this handler has it now (the claimed data plus its own {@link #putData}). */
    public Map<String, String> data() {
        synchronized (data) {
            return Map.copyOf(data);
        }
    }

    /**
     * Fences the handler's own writes: call inside the handler's transaction on the master,
     * before it commits; true means this claim still holds, and the job row stays locked (FOR
     * SHARE) until the transaction ends, so the claim cannot be taken back before the commit.
     * On false, roll back: another worker may be running the job.
     *
     * @param connection a connection of the handler's transaction (auto-commit off), on the
     *     database that holds the job table
     */
    public boolean holdsClaim(Connection connection) throws SQLException {
        return !claimLost && JobStore.holdsClaim(connection, job.id(), job.fencingToken());
    }

    // bind, unbind and interrupt share the lock: once unbind returns, no interrupt of this
    // context can reach the pool thread, which goes on to run another job
    synchronized void bind(Thread thread) {
        runner = thread;
    }

    synchronized void unbind() {
        runner = null;
    }

    void requestCancel() {
        if (!cancelRequested) {
            cancelRequested = true;
            interrupt();
        }
    }

    void loseClaim() {
        if (!claimLost) {
            claimLost = true;
            interrupt();
        }
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    private synchronized void interrupt() {
        Thread t = runner;
        if (t != null) {
            t.interrupt();
        }
    }
}
