package io.hacluster.jobs;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's workers: a claim loop that takes due pending jobs for every registered type with a
 * free worker, a pool per type that runs their handlers, and a heartbeat that keeps the claims
 * alive, learns of cancellations and notices a lost claim.
 *
 * <p>A claim is lost when the heartbeat finds the row no longer this worker's with this token
 * (the job went back to pending elsewhere), or when this node could not heartbeat for
 * {@code abandonedAfter} minus one heartbeat on its own monotonic clock: by then the database may
 * hand the job to another worker, so the handler is told before that can happen, as the lease
 * holder demotes itself before its lease can expire.
 */
final class JobWorkers {

    private static final Logger LOG = LoggerFactory.getLogger(JobWorkers.class);
    private static final int MAX_ERROR_CHARS = 2000;
    private static final int WRITE_ATTEMPTS = 3;

    /** One type's handler and pool. */
    private record TypeWorkers(String type, JobHandler handler, int workers, ThreadPoolExecutor pool,
                               AtomicInteger busy) {
    }

    /** A job this node runs. */
    private static final class Running {
        final Job job;
        final JobContext context;
        volatile long lastBeatNanos;
        /** The handler returned; its outcome is being written, so a heartbeat that misses the row is no news. */
        volatile boolean finishing;

        Running(Job job, JobContext context) {
            this.job = job;
            this.context = context;
            this.lastBeatNanos = System.nanoTime();
        }
    }

    private final String self;
    private final JobStore store;
    private final JobServerSettings settings;
    private final JobCounters counters;
    private final Map<String, TypeWorkers> types = new ConcurrentHashMap<>();
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final Object wakeMonitor = new Object();
    private boolean woken;
    private volatile boolean stopping;
    private volatile boolean claimWarned;
    private volatile boolean beatWarned;
    private Thread claimThread;

    JobWorkers(String self, JobStore store, JobServerSettings settings, JobCounters counters) {
        this.self = self;
        this.store = store;
        this.settings = settings;
        this.counters = counters;
    }

    /** Adds a type's handler with {@code workers} threads; once per type. */
    void register(String type, JobHandler handler, int workers) {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(workers, workers, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), counting("ha-" + self + "-job-" + type + "-"));
        TypeWorkers previous = types.putIfAbsent(type, new TypeWorkers(type, handler, workers, pool, new AtomicInteger()));
        if (previous != null) {
            pool.shutdown();
            throw new IllegalStateException("a handler for job type " + type + " is already registered");
        }
        wake();
    }

    void start() {
        claimThread = new Thread(this::claimLoop, "ha-" + self + "-job-claims");
        claimThread.setDaemon(true);
        claimThread.start();
    }

    /** Look for due jobs now rather than at the next poll. */
    void wake() {
        synchronized (wakeMonitor) {
            woken = true;
            wakeMonitor.notifyAll();
        }
    }

    /** Heartbeat thread, every heartbeat interval. */
    void heartbeat() {
        List<Running> snapshot = new ArrayList<>(running.values());
        if (snapshot.isEmpty()) {
            return;
        }
        Map<String, JobStore.Beat> beats;
        try {
            beats = store.heartbeat(self, snapshot.stream().map(r -> r.job.id()).toList());
            beatWarned = false;
        } catch (SQLException e) {
            if (!beatWarned) {
                LOG.warn("node {}: cannot heartbeat {} running job(s) (SQLState {})", self, snapshot.size(), e.getSQLState());
                beatWarned = true;
            }
            long limit = settings.abandonedAfter().minus(settings.heartbeatInterval()).toNanos();
            long now = System.nanoTime();
            for (Running r : snapshot) {
                if (!r.finishing && now - r.lastBeatNanos > limit && running.containsKey(r.job.id())) {
                    LOG.warn("node {}: job {} ({}) gave up its claim: no heartbeat reached the database for {} ms",
                            self, r.job.id(), r.job.type(), TimeUnit.NANOSECONDS.toMillis(now - r.lastBeatNanos));
                    r.context.loseClaim();
                }
            }
            return;
        }
        long now = System.nanoTime();
        for (Running r : snapshot) {
            if (r.finishing) {
                continue;
            }
            JobStore.Beat beat = beats.get(r.job.id());
            if (beat == null || beat.fencingToken() != r.job.fencingToken()) {
                if (running.containsKey(r.job.id())) {  // else it just finished
                    LOG.warn("node {}: job {} ({}) is no longer claimed by this node; its handler is told to stop",
                            self, r.job.id(), r.job.type());
                    r.context.loseClaim();
                }
                continue;
            }
            r.lastBeatNanos = now;
            if (beat.status() == JobStatus.CANCEL_REQUESTED && !r.context.cancelRequested()) {
                LOG.info("node {}: job {} ({}) cancel requested; telling its handler", self, r.job.id(), r.job.type());
                r.context.requestCancel();
            }
        }
    }

    /** The jobs this node runs now, by id. */
    int runningCount() {
        return running.size();
    }

    /**
     * Stops claiming, lets running handlers finish for up to {@code timeout}, then interrupts the
     * rest and hands their jobs back to pending at once, so another node need not wait for the
     * abandonment timeout.
     */
    void drain(Duration timeout) {
        stopping = true;
        wake();
        joinClaimThread();
        for (TypeWorkers t : types.values()) {
            t.pool().shutdown();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (TypeWorkers t : types.values()) {
            try {
                t.pool().awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Running r : new ArrayList<>(running.values())) {
            handBack(r);
        }
        for (TypeWorkers t : types.values()) {
            t.pool().shutdownNow();
        }
    }

    /** For crash tests: stops every thread at once, writes nothing. */
    void halt() {
        stopping = true;
        for (Running r : running.values()) {
            r.context.loseClaim();
        }
        wake();
        for (TypeWorkers t : types.values()) {
            t.pool().shutdownNow();
        }
    }

    private void claimLoop() {
        while (!stopping) {
            boolean claimed = false;
            for (TypeWorkers t : types.values()) {
                int free = t.workers() - t.busy().get();
                if (free <= 0 || stopping) {
                    continue;
                }
                List<Job> jobs;
                try {
                    jobs = store.claim(t.type(), self, free);
                    claimWarned = false;
                } catch (SQLException e) {
                    if (!claimWarned) {
                        LOG.warn("node {}: cannot claim jobs (SQLState {}); retrying every {} ms", self, e.getSQLState(),
                                settings.pollInterval().toMillis());
                        claimWarned = true;
                    }
                    break;
                }
                for (Job job : jobs) {
                    claimed = true;
                    dispatch(t, job);
                }
            }
            if (!claimed) {
                awaitWake();
            }
        }
    }

    private void dispatch(TypeWorkers t, Job job) {
        LOG.debug("node {}: job {} ({}) claimed, attempt {} of {}, token {}", self, job.id(), job.type(),
                job.attempts(), job.maxAttempts(), job.fencingToken());
        Running r = new Running(job, new JobContext(job, store));
        counters.claimed.incrementAndGet();
        running.put(job.id(), r);
        t.busy().incrementAndGet();
        try {
            t.pool().execute(() -> execute(t, r));
        } catch (RejectedExecutionException stopped) {
            t.busy().decrementAndGet();
            handBack(r);
        }
    }

    private void execute(TypeWorkers t, Running r) {
        Job job = r.job;
        JobContext context = r.context;
        Throwable failure = null;
        context.bind(Thread.currentThread());
        try {
            if (!context.isCancelled()) {
                t.handler().run(context);
            }
        } catch (Throwable e) {  // a handler's Error must not kill the worker silently either
            failure = e;
        } finally {
            r.finishing = true;
            context.unbind();
            Thread.interrupted();  // a cancel that arrived after the handler returned is not the next job's
        }
        try {
            record(job, context, failure);
        } finally {
            running.remove(job.id());
            t.busy().decrementAndGet();
            wake();
        }
        if (failure instanceof Error error && !(error instanceof AssertionError)) {
            throw error;
        }
    }

    private void record(Job job, JobContext context, Throwable failure) {
        if (context.isClaimLost()) {
            counters.claimsLost.incrementAndGet();
            LOG.warn("node {}: job {} ({}) ended after its claim was lost; its outcome is not recorded", self,
                    job.id(), job.type());
            return;
        }
        Optional<JobStatus> outcome;
        String error = null;
        if (context.cancelRequested()) {
            outcome = write(job, () -> store.finish(job.id(), job.fencingToken(), JobStatus.CANCELED));
        } else if (failure == null) {
            outcome = write(job, () -> store.finish(job.id(), job.fencingToken(), JobStatus.SUCCESS));
        } else {
            error = errorText(failure);
            String text = error;
            outcome = write(job, () -> store.fail(job.id(), job.fencingToken(), text, settings.backoffBase(),
                    settings.backoffMax()));
        }
        if (outcome == null) {
            return;  // not written; logged
        }
        if (outcome.isEmpty()) {
            counters.claimsLost.incrementAndGet();
            LOG.warn("node {}: job {} ({}) was taken back before its outcome was recorded", self, job.id(), job.type());
            return;
        }
        count(outcome.get(), error != null);
        if (error == null) {
            LOG.debug("node {}: job {} ({}) {}", self, job.id(), job.type(), outcome.get().dbName());
        } else if (outcome.get() == JobStatus.PENDING) {
            LOG.info("node {}: job {} ({}) attempt {} of {} failed, retrying after a backoff: {}", self, job.id(),
                    job.type(), job.attempts(), job.maxAttempts(), error);
        } else {
            LOG.warn("node {}: job {} ({}) {} after attempt {} of {}: {}", self, job.id(), job.type(),
                    outcome.get().dbName(), job.attempts(), job.maxAttempts(), error);
        }
    }

    private void count(JobStatus outcome, boolean attemptFailed) {
        if (attemptFailed) {
            counters.failed.incrementAndGet();
        }
        switch (outcome) {
            case SUCCESS -> counters.succeeded.incrementAndGet();
            case ERROR -> counters.errored.incrementAndGet();
            case CANCELED -> counters.canceled.incrementAndGet();
            default -> { }
        }
    }

    private interface Write {
        Optional<JobStatus> run() throws SQLException;
    }

    /** Null when every attempt failed: the job stays in progress and is retried once abandoned. */
    private Optional<JobStatus> write(Job job, Write w) {
        SQLException last = null;
        for (int i = 0; i < WRITE_ATTEMPTS; i++) {
            try {
                return w.run();
            } catch (SQLException e) {
                last = e;
                try {
                    Thread.sleep(settings.heartbeatInterval().toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        LOG.warn("node {}: cannot record the outcome of job {} ({}) (SQLState {}); it runs again once {} ms pass "
                + "without a heartbeat", self, job.id(), job.type(), last == null ? "-" : last.getSQLState(),
                settings.abandonedAfter().toMillis());
        return null;
    }

    private void handBack(Running r) {
        r.context.loseClaim();
        try {
            if (store.handBack(r.job.id(), r.job.fencingToken(), self)) {
                counters.handedBack.incrementAndGet();
                LOG.info("node {}: job {} ({}) handed back unfinished: this node stops", self, r.job.id(), r.job.type());
            }
        } catch (SQLException e) {
            LOG.warn("node {}: cannot hand back job {} ({}) (SQLState {}); it runs again once abandoned", self,
                    r.job.id(), r.job.type(), e.getSQLState());
        }
        running.remove(r.job.id());
    }

    private void awaitWake() {
        synchronized (wakeMonitor) {
            long deadline = System.nanoTime() + settings.pollInterval().toNanos();
            while (!woken && !stopping) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(wakeMonitor, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    stopping = true;
                }
            }
            woken = false;
        }
    }

    private void joinClaimThread() {
        Thread t = claimThread;
        if (t == null) {
            return;
        }
        try {
            t.join(settings.statementTimeout().toMillis() + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The failure as stored and logged: bounded, control characters escaped (a log line stays one line). */
    static String errorText(Throwable e) {
        String text = e.toString();
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_ERROR_CHARS) + 3);
        for (int i = 0; i < text.length() && out.length() < MAX_ERROR_CHARS; i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (out.length() >= MAX_ERROR_CHARS) {
            out.append("...");
        }
        return out.toString();
    }

    private static java.util.concurrent.ThreadFactory counting(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
