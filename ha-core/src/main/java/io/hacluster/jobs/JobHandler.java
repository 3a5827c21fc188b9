package io.hacluster.jobs;

/**
 * Runs one attempt of a job on a worker thread. Returning normally ends the job in success (or
 * canceled, when it was asked to stop and saw it); throwing ends the attempt in error, and the
 * job runs again after a backoff while attempts remain.
 *
 * <p>Execution is at least once: an attempt whose worker stops heartbeating (crash, partition)
 * is retried elsewhere, and the first may still be running. Make the handler idempotent with the
 * job id, and fence its writes with {@link JobContext#holdsClaim}.
 */
@FunctionalInterface
public interface JobHandler {

    void run(JobContext context) throws Exception;
}
