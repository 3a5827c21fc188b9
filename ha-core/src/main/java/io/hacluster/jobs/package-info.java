/**
 * The job server (issue 10): periodic jobs scheduled by the cluster leader and one-off jobs,
 * durable in the master database, claimed and run by workers on every node that runs jobs.
 *
 * <p>Start with {@link io.hacluster.jobs.JobServer}; docs/jobs.md has the semantics: exactly one
 * row per periodic slot, at-least-once execution with a retry only after a worker is declared
 * gone, and how a handler fences its own writes with the claim's token.
 */
package io.hacluster.jobs;
