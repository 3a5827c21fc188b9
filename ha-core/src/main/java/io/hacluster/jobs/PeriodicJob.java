package io.hacluster.jobs;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** A registered periodic job type: its schedule and misfire policy. */
record PeriodicJob(String type, JobSchedule schedule, MisfirePolicy misfirePolicy) {

    PeriodicJob {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(misfirePolicy, "misfirePolicy");
    }

    /**
     * The slots the leader creates now, oldest first, given the latest slot in the table and the
     * database's time: nothing while the next slot's row exists (it lies in the future); the first
     * future slot when the type has no row yet; otherwise the missed slots the policy keeps (those
     * after {@code last} and not after {@code now}, at most {@link JobServer#MAX_CATCH_UP}) and the
     * first future slot. Rows are created one slot ahead, so workers run a due slot even while the
     * cluster has no leader.
     */
    List<Instant> slotsToCreate(Optional<Instant> last, Instant now) {
        if (last.isPresent() && last.get().isAfter(now)) {
            return List.of();
        }
        Instant future = schedule.nextAfter(now);
        List<Instant> out = new ArrayList<>();
        if (last.isPresent() && misfirePolicy != MisfirePolicy.SKIP) {
            int keep = misfirePolicy == MisfirePolicy.RUN_ALL ? JobServer.MAX_CATCH_UP : 1;
            Deque<Instant> missed = new ArrayDeque<>();
            // walk back from now, so a long outage costs at most `keep` steps
            Optional<Instant> s = schedule.previousBefore(now.plusNanos(1));
            while (s.isPresent() && s.get().isAfter(last.get()) && missed.size() < keep) {
                missed.addFirst(s.get());
                s = schedule.previousBefore(s.get());
            }
            out.addAll(missed);
        }
        out.add(future);
        return out;
    }
}
