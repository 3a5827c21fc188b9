package io.hacluster.jobs;

import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What only the lease holder does, each tick: create the rows of periodic slots (continuing from
 * the last slot in the table, fenced by its lease token), and now and then delete old finished
 * jobs. Every write is idempotent or fenced, so a deposed leader
 * that still ticks does no harm.
 */
final class LeaderDuties {

    private static final Logger LOG = LoggerFactory.getLogger(LeaderDuties.class);
    private static final long CLEANUP_EVERY_NANOS = TimeUnit.HOURS.toNanos(1);

    private final String self;
    private final JobStore store;
    private final JobServerSettings settings;
    private final Supplier<OptionalLong> leaseToken;
    private final int cleanupDays;
    private final JobCounters counters;
    private final Map<String, PeriodicJob> periodic = new ConcurrentHashMap<>();
    private long lastCleanupNanos;
    private boolean cleanedOnce;
    private boolean warned;

    /**
     * @param leaseToken this node's lease token while it leads with the lease, else empty
     * @param cleanupDays delete finished jobs older than this many days; negative for never
     */
    LeaderDuties(String self, JobStore store, JobServerSettings settings, Supplier<OptionalLong> leaseToken,
                 int cleanupDays, JobCounters counters) {
        this.counters = counters;
        this.self = self;
        this.store = store;
        this.settings = settings;
        this.leaseToken = leaseToken;
        this.cleanupDays = cleanupDays;
    }

    void register(PeriodicJob job) {
        if (periodic.putIfAbsent(job.type(), job) != null) {
            throw new IllegalStateException("periodic job type " + job.type() + " is already registered");
        }
    }

    /** One tick of the scheduler thread. */
    void tick() {
        OptionalLong token = leaseToken.get();
        if (token.isEmpty()) {
            return;
        }
        try {
            for (PeriodicJob job : periodic.values()) {
                schedule(job, token.getAsLong());
            }
            long now = System.nanoTime();
            if (cleanupDays >= 0 && (!cleanedOnce || now - lastCleanupNanos >= CLEANUP_EVERY_NANOS)) {
                cleanedOnce = true;
                lastCleanupNanos = now;
                int deleted = store.cleanup(cleanupDays);
                if (deleted > 0) {
                    LOG.info("node {}: deleted {} finished job(s) older than {} day(s)", self, deleted, cleanupDays);
                }
            }
            warned = false;
        } catch (SQLException e) {
            if (!warned) {
                LOG.warn("node {}: the job scheduler cannot reach the database (SQLState {}); retrying", self,
                        e.getSQLState());
                warned = true;
            }
        }
    }

    private void schedule(PeriodicJob job, long token) throws SQLException {
        JobStore.LastSlot last = store.lastSlot(job.type());
        List<Instant> slots = job.slotsToCreate(last.slot(), last.now());
        for (Instant slot : slots) {
            if (store.insertSlot(job.type(), slot, settings.maxAttempts(), self, token)) {
                boolean missed = !slot.isAfter(last.now());
                counters.slotsCreated.incrementAndGet();
                if (missed) {
                    counters.missedSlotsCreated.incrementAndGet();
                }
                LOG.debug("node {}: periodic job {} slot {} created{}", self, job.type(), slot,
                        missed ? " (missed, " + job.misfirePolicy() + ")" : "");
            }
        }
    }
}
