package io.hacluster.jobs;

import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends running jobs whose worker stopped heartbeating back to pending (or ends them), on every
 * node that runs jobs, not only the leader: a crashed worker's job must not wait for an election
 * too. The statement decides in database time and is idempotent; nodes reaping at once serialise
 * on the rows, and the second finds nothing left to reap.
 */
final class Reaper {

    private static final Logger LOG = LoggerFactory.getLogger(Reaper.class);

    private final String self;
    private final JobStore store;
    private final JobServerSettings settings;
    private final JobCounters counters;
    private boolean warned;

    Reaper(String self, JobStore store, JobServerSettings settings, JobCounters counters) {
        this.self = self;
        this.store = store;
        this.settings = settings;
        this.counters = counters;
    }

    /** One pass; the timer thread calls it every heartbeat interval. */
    void reap() {
        try {
            for (Job j : store.reapAbandoned(settings.abandonedAfter(), settings.backoffBase(), settings.backoffMax())) {
                counters.reaped.incrementAndGet();
                LOG.warn("node {}: job {} ({}) {}: {}", self, j.id(), j.type(), j.status().dbName(),
                        j.lastError().orElse(""));
            }
            warned = false;
        } catch (SQLException e) {
            if (!warned) {  // the claim loop and heartbeat say the same; once is enough
                LOG.debug("node {}: cannot reap abandoned jobs (SQLState {})", self, e.getSQLState());
                warned = true;
            }
        }
    }
}
