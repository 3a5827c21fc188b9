package io.hacluster.jobs;

import io.hacluster.discovery.ConnectionSource;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job server of one node: periodic jobs the cluster leader schedules, one-off jobs any node
 * submits, and workers that claim and run both, all durable in the master database.
 *
 * <p>Register the same periodic jobs and handlers on every node (as an application registers its
 * message handlers). Only the node holding the leader lease creates periodic rows, one per slot,
 * made unique by the database; every node whose {@code JobSettings.RunJobs} is true runs workers.
 * Execution is at least once: a job runs again only after its worker stopped heartbeating for
 * {@link JobServerSettings#abandonedAfter()} (or failed and has attempts left). See docs/jobs.md.
 *
 * <p>For {@code ClusterNode}, which builds it when a database is configured; applications reach
 * it through {@code ClusterNode.jobs()}.
 */
public final class JobServer implements AutoCloseable {

    /** The best-effort messaging event that wakes other nodes' workers after a submit; reserved. */
    public static final String WAKE_EVENT = "ha.jobs.wake";
    /** The most missed slots {@link MisfirePolicy#RUN_ALL} creates after an outage. */
    public static final int MAX_CATCH_UP = 100;
    /** The most jobs one {@link #jobs} call returns. */
    public static final int MAX_QUERY = 1000;
    /** The most workers one type may have on one node. */
    public static final int MAX_WORKERS = 256;

    private static final Pattern TYPE = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final Logger LOG = LoggerFactory.getLogger(JobServer.class);

    private final String self;
    private final boolean runJobs;
    private final JobServerSettings settings;
    private final JobStore store;
    private final JobWorkers workers;
    private final LeaderDuties duties;
    private final Reaper reaper;
    private final JobCounters counters = new JobCounters();
    private final Runnable announceSubmit;
    private final ScheduledThreadPoolExecutor timers;
    private volatile boolean started;
    private volatile boolean closed;

    /**
     * @param nodeId this node's id (the worker id in job rows)
     * @param clusterName jobs are per cluster
     * @param master connections to the master database, auto-commit on
     * @param runJobs whether this node runs workers ({@code JobSettings.RunJobs})
     * @param settings timing and retries
     * @param leaseToken this node's lease token while it leads with the lease, else empty
     * @param cleanupJobsThresholdDays finished jobs older than this are deleted; negative never
     * @param announceSubmit called after each submit on this node, to wake the other nodes'
     *     workers (ClusterNode broadcasts); may do nothing
     */
    public JobServer(String nodeId, String clusterName, ConnectionSource master, boolean runJobs,
                     JobServerSettings settings, Supplier<OptionalLong> leaseToken, int cleanupJobsThresholdDays,
                     Runnable announceSubmit) {
        this.self = Objects.requireNonNull(nodeId, "nodeId");
        this.runJobs = runJobs;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.store = new JobStore(master, clusterName, settings.statementTimeout());
        this.workers = new JobWorkers(nodeId, store, settings, counters);
        this.duties = new LeaderDuties(nodeId, store, settings, Objects.requireNonNull(leaseToken, "leaseToken"),
                cleanupJobsThresholdDays, counters);
        this.reaper = new Reaper(nodeId, store, settings, counters);
        this.announceSubmit = Objects.requireNonNull(announceSubmit, "announceSubmit");
        this.timers = new ScheduledThreadPoolExecutor(3, r -> {
            Thread t = new Thread(r, "ha-" + nodeId + "-job-timers");
            t.setDaemon(true);
            return t;
        });
        timers.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /** Creates the job tables when missing; call before {@link #start()}, so a problem fails the node's start. */
    public void prepare() throws SQLException {
        store.createSchemaIfMissing();
    }

    /** Starts the workers (when this node runs jobs) and the leader's scheduling tick. */
    public void start() {
        started = true;
        long poll = settings.pollInterval().toMillis();
        long beat = settings.heartbeatInterval().toMillis();
        timers.scheduleWithFixedDelay(() -> guarded(duties::tick), poll, poll, TimeUnit.MILLISECONDS);
        if (runJobs) {
            timers.scheduleWithFixedDelay(() -> guarded(workers::heartbeat), beat, beat, TimeUnit.MILLISECONDS);
            timers.scheduleWithFixedDelay(() -> guarded(reaper::reap), beat, beat, TimeUnit.MILLISECONDS);
            workers.start();
        }
    }

    /**
     * Registers the handler of one-off jobs of {@code type}, run by up to {@code workers}
     * threads on this node. Jobs of a type no node handles stay pending.
     *
     * @throws IllegalArgumentException for a type outside {@code [A-Za-z0-9_.-]{1,64}} or a worker
     *     count outside 1 to {@value #MAX_WORKERS}
     * @throws IllegalStateException if the type already has a handler here
     */
    public void registerJobHandler(String type, int workers, JobHandler handler) {
        checkType(type);
        Objects.requireNonNull(handler, "handler");
        if (workers < 1 || workers > MAX_WORKERS) {
            throw new IllegalArgumentException("workers must be 1 to " + MAX_WORKERS + ", got " + workers);
        }
        if (runJobs) {  // a node that runs no jobs keeps no handler; the leader may still schedule the type
            this.workers.register(type, handler, workers);
        }
    }

    /**
     * Registers a periodic job: the leader creates one row per slot of {@code schedule}, and
     * {@code handler} runs each on one worker thread of whichever node claims it.
     *
     * @see #registerJobHandler
     */
    public void registerPeriodicJob(String type, JobSchedule schedule, MisfirePolicy misfirePolicy, JobHandler handler) {
        checkType(type);
        PeriodicJob job = new PeriodicJob(type, schedule, misfirePolicy);
        registerJobHandler(type, 1, handler);
        duties.register(job);
    }

    /** Submits a one-off job with priority 0. */
    public Job submitJob(String type, Map<String, String> data) throws SQLException {
        return submitJob(type, 0, data);
    }

    /** Submits a one-off job; higher priorities are claimed first among a type's pending jobs. */
    public Job submitJob(String type, int priority, Map<String, String> data) throws SQLException {
        checkType(type);
        Job job = store.insert(type, priority, Objects.requireNonNull(data, "data"), settings.maxAttempts());
        submitted(job);
        return job;
    }

    /**
     * Submits a one-off job unless one of the type is pending or running (Mattermost's
     * {@code CreateJobOnce}); safe under concurrent submitters on every node.
     *
     * @throws JobAlreadyActiveException if a job of the type is pending or running
     */
    public Job submitJobOnce(String type, Map<String, String> data) throws SQLException, JobAlreadyActiveException {
        checkType(type);
        Optional<Job> job = store.insertOnce(type, 0, Objects.requireNonNull(data, "data"), settings.maxAttempts());
        if (job.isEmpty()) {
            throw new JobAlreadyActiveException(type);
        }
        submitted(job.get());
        return job.get();
    }

    /**
     * Cancels a job: a pending one at once, a running one by asking its handler (it learns within
     * about a heartbeat interval). Returns false if the job is unknown or already finished.
     */
    public boolean cancelJob(String id) throws SQLException {
        Optional<JobStatus> status = store.cancel(Objects.requireNonNull(id, "id"));
        status.ifPresent(s -> LOG.info("node {}: job {} {}", self, id, s == JobStatus.CANCELED ? "canceled"
                : "cancel requested"));
        return status.isPresent();
    }

    /** One job, as the database has it now. */
    public Optional<Job> job(String id) throws SQLException {
        return store.find(Objects.requireNonNull(id, "id"));
    }

    /**
     * Jobs newest first.
     *
     * @param type one type, or null for all
     * @param statuses statuses to include; empty for all
     * @param limit at most this many, 1 to {@value #MAX_QUERY}
     */
    public List<Job> jobs(String type, Set<JobStatus> statuses, int limit) throws SQLException {
        if (type != null) {
            checkType(type);
        }
        if (limit < 1 || limit > MAX_QUERY) {
            throw new IllegalArgumentException("limit must be 1 to " + MAX_QUERY + ", got " + limit);
        }
        return store.query(type, Set.copyOf(statuses), limit);
    }

    /** Another node submitted: look for due jobs now. */
    public void wake() {
        if (runJobs) {
            workers.wake();
        }
    }

    /** What this node's job server did since it started. */
    public JobServerStats stats() {
        return counters.snapshot(workers.runningCount());
    }

    /** How many jobs this node runs now. */
    public int runningJobs() {
        return workers.runningCount();
    }

    /**
     * Stops: no more claims or scheduling; running handlers get {@link JobServerSettings#drainTimeout()}
     * to finish, then are interrupted and their jobs handed back to pending at once.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        timers.shutdown();
        if (runJobs && started) {
            workers.drain(settings.drainTimeout());
        }
        awaitTimers();
    }

    /** For crash tests: stops every thread at once and writes nothing, as a killed process. */
    public void halt() {
        closed = true;
        timers.shutdownNow();
        workers.halt();
    }

    private void submitted(Job job) {
        LOG.debug("node {}: job {} ({}) submitted", self, job.id(), job.type());
        wake();
        try {
            announceSubmit.run();
        } catch (RuntimeException e) {
            LOG.debug("node {}: announcing job {} failed: {}", self, job.id(), e.toString());
        }
    }

    private void awaitTimers() {
        try {
            timers.awaitTermination(settings.statementTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void guarded(Runnable task) {
        try {
            task.run();
        } catch (RejectedExecutionException stopping) {
            // closing
        } catch (RuntimeException e) {
            LOG.warn("node {}: job server step failed", self, e);
        }
    }

    private static void checkType(String type) {
        Objects.requireNonNull(type, "type");
        if (!TYPE.matcher(type).matches()) {
            throw new IllegalArgumentException("a job type is 1 to 64 of A-Z a-z 0-9 _ . -, got '"
                    + type.replaceAll("\\p{Cntrl}", "?") + "'");
        }
    }
}
