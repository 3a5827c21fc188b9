package io.hacluster.jobs;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One job row as the database had it when it was read; times are the database's.
 *
 * @param id 26-character id in Mattermost's shape ({@code NodeId.generate()})
 * @param type the job type a handler is registered for
 * @param priority higher runs first among pending jobs of one type
 * @param status where the job is
 * @param createdAt when the row was created
 * @param startedAt when its latest attempt was claimed, if ever
 * @param lastActivityAt its latest heartbeat or change
 * @param runAfter a worker claims it no earlier than this (the slot, or a retry's backoff)
 * @param progress 0 to 100, as the handler reported it
 * @param data string data, as Mattermost's {@code Job.Data}; the handler may add to it
 * @param lastError the latest attempt's error, or why the job went back to pending
 * @param attempts how many times it was claimed
 * @param maxAttempts how many claims it may get
 * @param workerId the node of its latest claim, if any
 * @param fencingToken the token of its latest claim (strictly increasing across all jobs), 0 if
 *     never claimed
 * @param slot the periodic slot this row is for, empty for a one-off job
 */
public record Job(String id, String type, int priority, JobStatus status, Instant createdAt,
                  Optional<Instant> startedAt, Instant lastActivityAt, Instant runAfter, int progress,
                  Map<String, String> data, Optional<String> lastError, int attempts, int maxAttempts,
                  Optional<String> workerId, long fencingToken, Optional<Instant> slot) {

    public Job {
        data = Map.copyOf(data);
    }
}
