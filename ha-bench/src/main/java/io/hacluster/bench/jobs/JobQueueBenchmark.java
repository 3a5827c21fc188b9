package io.hacluster.bench.jobs;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.hacluster.jobs.JobServer;
import io.hacluster.jobs.JobServerSettings;
import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Jobs per second claimed and completed, and the latency from submit to the handler's start, on
 * one real PostgreSQL primary: this library's job server against db-scheduler
 * (com.github.kagkarlsson:db-scheduler, its fastest PostgreSQL mode: lock-and-fetch with
 * {@code SKIP LOCKED}), same number of nodes, same worker threads, same poll interval, same pool,
 * in the same run. Rounds alternate which system goes first, so a machine that slows down during
 * the run does not favour one of them.
 *
 * <ul>
 *   <li><b>throughput</b>: a backlog of {@code jobs} no-op jobs is inserted first (not measured);
 *       then the nodes start, and the time until the database shows every job completed is
 *       measured (ours: status success; db-scheduler: its row deleted);</li>
 *   <li><b>latency</b>: one job submitted every {@code 1000/rate} ms for {@code latencySeconds} on
 *       the first node; each handler records how long after its submit it started. db-scheduler
 *       runs with {@code enableImmediateExecution()}; ours wakes its nodes on a submit (as
 *       ClusterNode's broadcast does).</li>
 * </ul>
 *
 * <pre>
 * mvn -B -q install -DskipTests
 * mvn -B -q -pl ha-bench exec:exec -Dexec.args="-cp %classpath io.hacluster.bench.jobs.JobQueueBenchmark"
 * </pre>
 * System properties (put them before {@code -cp}): {@code -Djobs=10000 -Dnodes=3 -Dworkers=4
 * -Drounds=2 -Drate=200 -DlatencySeconds=10}.
 */
public final class JobQueueBenchmark {

    private static final String CLUSTER = "bench";
    private static final Duration POLL = Duration.ofMillis(50);
    private static final String DB_SCHEDULER_DDL = "CREATE TABLE IF NOT EXISTS scheduled_tasks ("
            + "task_name TEXT NOT NULL, task_instance TEXT NOT NULL, task_data BYTEA, "
            + "execution_time TIMESTAMPTZ NOT NULL, picked BOOLEAN NOT NULL, picked_by TEXT, "
            + "last_success TIMESTAMPTZ, last_failure TIMESTAMPTZ, consecutive_failures INT, "
            + "last_heartbeat TIMESTAMPTZ, version BIGINT NOT NULL, priority SMALLINT, "
            + "PRIMARY KEY (task_name, task_instance))";

    private final int jobs = Integer.getInteger("jobs", 10_000);
    private final int nodes = Integer.getInteger("nodes", 3);
    private final int workers = Integer.getInteger("workers", 4);
    private final int rounds = Integer.getInteger("rounds", 2);
    private final int rate = Integer.getInteger("rate", 200);
    private final int latencySeconds = Integer.getInteger("latencySeconds", 10);
    private final HikariDataSource pool;

    private JobQueueBenchmark(HikariDataSource pool) {
        this.pool = pool;
    }

    public static void main(String[] args) throws Exception {
        try (PostgresTopology pg = PostgresTopology.start(0)) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(pg.primary().jdbcUrl());
            config.setUsername(pg.primary().user());
            config.setPassword(pg.primary().password());
            config.setPoolName("bench-jobs");
            config.setMaximumPoolSize(Integer.getInteger("nodes", 3) * Integer.getInteger("workers", 4) + 8);
            config.setMinimumIdle(config.getMaximumPoolSize());
            try (HikariDataSource pool = new HikariDataSource(config)) {
                new JobQueueBenchmark(pool).run();
            }
        }
        System.exit(0);  // db-scheduler's and the testkit's non-daemon threads
    }

    private void run() throws Exception {
        execute(DB_SCHEDULER_DDL);
        execute("CREATE INDEX IF NOT EXISTS execution_time_idx ON scheduled_tasks (execution_time)");
        execute("CREATE INDEX IF NOT EXISTS last_heartbeat_idx ON scheduled_tasks (last_heartbeat)");
        execute("CREATE INDEX IF NOT EXISTS priority_execution_time_idx ON scheduled_tasks (priority DESC, execution_time)");
        new JobServer("setup", CLUSTER, pool::getConnection, false, settings(), OptionalLong::empty, -1, () -> { })
                .prepare();
        System.out.printf("job queue benchmark: %d jobs, %d nodes x %d workers, poll %d ms, %d cores, %s%n", jobs, nodes,
                workers, POLL.toMillis(), Runtime.getRuntime().availableProcessors(), Instant.now());
        List<Double> ours = new ArrayList<>();
        List<Double> theirs = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            if (r % 2 == 0) {
                ours.add(oursThroughput());
                theirs.add(dbSchedulerThroughput());
            } else {
                theirs.add(dbSchedulerThroughput());
                ours.add(oursThroughput());
            }
            System.out.printf("round %d: ha-cluster %.0f jobs/s, db-scheduler %.0f jobs/s%n", r + 1,
                    ours.get(r), theirs.get(r));
        }
        double oursBest = ours.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        double theirsBest = theirs.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        System.out.printf("throughput, best of %d: ha-cluster %.0f jobs/s, db-scheduler %.0f jobs/s, ratio %.2f%n",
                rounds, oursBest, theirsBest, oursBest / theirsBest);
        long[] oursLatency = oursLatency();
        long[] theirsLatency = dbSchedulerLatency();
        System.out.printf("submit-to-start latency at %d/s: ha-cluster p50 %.1f ms p99 %.1f ms; db-scheduler p50 %.1f ms "
                + "p99 %.1f ms%n", rate, pct(oursLatency, 50), pct(oursLatency, 99), pct(theirsLatency, 50),
                pct(theirsLatency, 99));
    }

    private JobServerSettings settings() {
        return JobServerSettings.defaults().withPolling(POLL, Duration.ofMillis(500));
    }

    // ---------------------------------------------------------------- ha-cluster

    private List<JobServer> oursNodes(Runnable onRun) {
        List<JobServer> servers = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            JobServer s = new JobServer("node-" + i, CLUSTER, pool::getConnection, true, settings(),
                    OptionalLong::empty, -1, () -> servers.forEach(JobServer::wake));
            s.registerJobHandler("bench", workers, ctx -> onRun.run());
            servers.add(s);
        }
        return servers;
    }

    private double oursThroughput() throws Exception {
        execute("DELETE FROM ha_jobs");
        JobServer submitter = new JobServer("submitter", CLUSTER, pool::getConnection, false, settings(),
                OptionalLong::empty, -1, () -> { });
        parallel(4, jobs, i -> submitter.submitJob("bench", Map.of()));
        List<JobServer> servers = oursNodes(() -> { });
        long start = System.nanoTime();
        servers.forEach(JobServer::start);
        awaitCount("SELECT count(*) FROM ha_jobs WHERE status = 'success'", jobs);
        double seconds = (System.nanoTime() - start) / 1e9;
        servers.forEach(JobServer::close);
        return jobs / seconds;
    }

    private long[] oursLatency() throws Exception {
        execute("DELETE FROM ha_jobs");
        Map<String, Long> submitted = new ConcurrentHashMap<>();
        List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        List<JobServer> servers = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            JobServer s = new JobServer("node-" + i, CLUSTER, pool::getConnection, true, settings(),
                    OptionalLong::empty, -1, () -> servers.forEach(JobServer::wake));
            s.registerJobHandler("bench", workers, ctx -> {
                Long at = awaitKey(submitted, ctx.job().data().get("k"));
                latencies.add(System.nanoTime() - at);
            });
            servers.add(s);
        }
        servers.forEach(JobServer::start);
        int total = rate * latencySeconds;
        paced(total, i -> {
            String k = Integer.toString(i);
            submitted.put(k, System.nanoTime());
            servers.get(0).submitJob("bench", Map.of("k", k));
        });
        awaitCount("SELECT count(*) FROM ha_jobs WHERE status = 'success'", total);
        servers.forEach(JobServer::close);
        return sorted(latencies);
    }

    // ---------------------------------------------------------------- db-scheduler

    private double dbSchedulerThroughput() throws Exception {
        execute("DELETE FROM scheduled_tasks");
        OneTimeTask<Void> task = Tasks.oneTime("bench").execute((instance, context) -> { });
        SchedulerClient client = SchedulerClient.Builder.create(pool, task).build();
        Instant now = Instant.now();
        parallel(4, jobs, i -> client.schedule(task.instance("j" + i), now));
        List<Scheduler> schedulers = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            schedulers.add(Scheduler.create(pool, task).threads(workers).pollingInterval(POLL)
                    .pollUsingLockAndFetch(0.5, 1.0).build());
        }
        long start = System.nanoTime();
        schedulers.forEach(Scheduler::start);
        awaitCount("SELECT " + jobs + " - count(*) FROM scheduled_tasks", jobs);
        double seconds = (System.nanoTime() - start) / 1e9;
        schedulers.forEach(Scheduler::stop);
        return jobs / seconds;
    }

    private long[] dbSchedulerLatency() throws Exception {
        execute("DELETE FROM scheduled_tasks");
        Map<String, Long> submitted = new ConcurrentHashMap<>();
        List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        OneTimeTask<Void> task = Tasks.oneTime("bench").execute((instance, context) -> {
            Long at = awaitKey(submitted, instance.getId());
            latencies.add(System.nanoTime() - at);
        });
        List<Scheduler> schedulers = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            schedulers.add(Scheduler.create(pool, task).threads(workers).pollingInterval(POLL)
                    .pollUsingLockAndFetch(0.5, 1.0).enableImmediateExecution().build());
        }
        schedulers.forEach(Scheduler::start);
        int total = rate * latencySeconds;
        paced(total, i -> {
            String k = Integer.toString(i);
            submitted.put(k, System.nanoTime());
            schedulers.get(0).schedule(task.instance(k), Instant.now());
        });
        await(() -> latencies.size() >= total);
        schedulers.forEach(Scheduler::stop);
        return sorted(latencies);
    }

    // ---------------------------------------------------------------- helpers

    private interface Step {
        void run(int i) throws Exception;
    }

    private static void parallel(int threads, int count, Step step) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                done.add(pool.submit(() -> {
                    for (int i = first; i < count; i += threads) {
                        step.run(i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(10, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** {@code count} steps, one every {@code 1000/rate} ms, on schedule rather than after the previous one. */
    private void paced(int count, Step step) throws Exception {
        long every = TimeUnit.SECONDS.toNanos(1) / rate;
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            long due = start + i * every;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            step.run(i);
        }
    }

    /** A handler can start before its submitter recorded the time: wait for it, bounded. */
    private static Long awaitKey(Map<String, Long> map, String key) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Long v;
        while ((v = map.get(key)) == null && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        if (v == null) {
            throw new IllegalStateException("no submit time for " + key);
        }
        return v;
    }

    private void awaitCount(String sql, int expected) throws Exception {
        await(() -> {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getInt(1) >= expected;
            }
        });
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void await(Condition condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("benchmark phase did not finish within 10 minutes");
            }
            Thread.sleep(20);
        }
    }

    private static long[] sorted(List<Long> values) {
        long[] out;
        synchronized (values) {
            out = values.stream().mapToLong(Long::longValue).toArray();
        }
        Arrays.sort(out);
        return out;
    }

    private static double pct(long[] sortedNanos, int p) {
        int i = (int) Math.min(sortedNanos.length - 1, Math.ceil(p / 100.0 * sortedNanos.length) - 1);
        return sortedNanos[Math.max(0, i)] / 1e6;
    }

    private void execute(String sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
