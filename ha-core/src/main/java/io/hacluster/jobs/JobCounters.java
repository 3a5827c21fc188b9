package io.hacluster.jobs;

import java.util.concurrent.atomic.AtomicLong;

/** The counters behind {@link JobServerStats}, shared by the job server's parts. */
final class JobCounters {

    final AtomicLong claimed = new AtomicLong();
    final AtomicLong succeeded = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong errored = new AtomicLong();
    final AtomicLong canceled = new AtomicLong();
    final AtomicLong claimsLost = new AtomicLong();
    final AtomicLong handedBack = new AtomicLong();
    final AtomicLong reaped = new AtomicLong();
    final AtomicLong slotsCreated = new AtomicLong();
    final AtomicLong missedSlotsCreated = new AtomicLong();

    JobServerStats snapshot(int running) {
        return new JobServerStats(claimed.get(), succeeded.get(), failed.get(), errored.get(), canceled.get(),
                claimsLost.get(), handedBack.get(), reaped.get(), slotsCreated.get(), missedSlotsCreated.get(), running);
    }
}
