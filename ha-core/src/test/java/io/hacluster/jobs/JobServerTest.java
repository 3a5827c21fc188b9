package io.hacluster.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Job servers of several nodes on one real PostgreSQL primary. The leader lease is a row the test
 * moves by hand (its table has the columns slot creation is fenced on), so leader changes happen
 * exactly when the test says; the election itself is tested elsewhere.
 */
class JobServerTest {

    private static final String CLUSTER = "jobs-test";
    private static final Duration LONG = Duration.ofSeconds(60);
    private static final JobServerSettings FAST = JobServerSettings.defaults()
            .withPolling(Duration.ofMillis(50), Duration.ofMillis(100))
            .withAbandonedAfter(Duration.ofSeconds(1))
            .withRetries(3, Duration.ofMillis(100), Duration.ofSeconds(1))
            .withDrainTimeout(Duration.ofSeconds(2));

    private static PostgresTopology pg;
    private static HikariDataSource pool;

    private final List<JobServer> servers = new CopyOnWriteArrayList<>();
    private final AtomicReference<String> leader = new AtomicReference<>("");
    private final AtomicLong leaseToken = new AtomicLong();

    @BeforeAll
    static void startPostgres() throws SQLException {
        pg = PostgresTopology.start(0);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(pg.primary().jdbcUrl());
        config.setUsername(pg.primary().user());
        config.setPassword(pg.primary().password());
        config.setMaximumPoolSize(40);
        config.setPoolName("jobs-test");
        pool = new HikariDataSource(config);
        execute("CREATE TABLE " + JobStore.LEASE_TABLE + " (cluster_name VARCHAR(64) PRIMARY KEY, holder_id VARCHAR(64), "
                + "fencing_token BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)");
        execute("CREATE TABLE ran (job_id VARCHAR(26) PRIMARY KEY, node VARCHAR(64) NOT NULL, "
                + "at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())");
        new JobStore(pool::getConnection, CLUSTER, Duration.ofSeconds(5)).createSchemaIfMissing();
    }

    @AfterAll
    static void stopPostgres() {
        if (pool != null) {
            pool.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    @BeforeEach
    void emptyTables() throws SQLException {
        execute("DELETE FROM " + JobStore.TABLE);
        execute("DELETE FROM ran");
        execute("DELETE FROM " + JobStore.LEASE_TABLE);
    }

    @AfterEach
    void closeServers() {
        servers.forEach(JobServer::close);
    }

    private JobServer server(String id, JobServerSettings settings) throws SQLException {
        JobServer s = new JobServer(id, CLUSTER, pool::getConnection, true, settings,
                () -> id.equals(leader.get()) ? OptionalLong.of(leaseToken.get()) : OptionalLong.empty(), -1,
                () -> servers.forEach(JobServer::wake));
        s.prepare();
        servers.add(s);
        return s;
    }

    /** Moves the lease to {@code id} with a new token, unexpired for an hour of database time. */
    private void lead(String id) throws SQLException {
        long token = leaseToken.incrementAndGet();
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement("INSERT INTO "
                + JobStore.LEASE_TABLE + " VALUES (?, ?, ?, clock_timestamp() + interval '1 hour') "
                + "ON CONFLICT (cluster_name) DO UPDATE SET holder_id = EXCLUDED.holder_id, "
                + "fencing_token = EXCLUDED.fencing_token, expires_at = EXCLUDED.expires_at")) {
            ps.setString(1, CLUSTER);
            ps.setString(2, id);
            ps.setLong(3, token);
            ps.executeUpdate();
        }
        leader.set(id);
    }

    /** The handler's own write, fenced by its claim, into a table where a second run would collide. */
    private static JobHandler recordRun(String node) {
        return ctx -> {
            try (Connection c = pool.getConnection()) {
                c.setAutoCommit(false);
                if (!ctx.holdsClaim(c)) {
                    c.rollback();
                    return;
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO ran (job_id, node) VALUES (?, ?)")) {
                    ps.setString(1, ctx.job().id());
                    ps.setString(2, node);
                    ps.executeUpdate();
                }
                c.commit();
            }
        };
    }

    @Test
    void tenThousandOneOffJobsThroughThreeNodesRunExactlyOnce() throws Exception {
        int jobs = 10_000;
        List<JobServer> nodes = new ArrayList<>();
        for (String id : List.of("node-a", "node-b", "node-c")) {
            JobServer s = server(id, FAST);
            s.registerJobHandler("bulk", 4, recordRun(id));
            s.start();
            nodes.add(s);
        }
        long start = System.nanoTime();
        ExecutorService submitters = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int n = 0; n < 3; n++) {
                JobServer s = nodes.get(n);
                int first = n;
                done.add(submitters.submit(() -> {
                    for (int i = first; i < jobs; i += 3) {
                        s.submitJob("bulk", Map.of("i", Integer.toString(i)));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            submitters.shutdownNow();
        }
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                .until(() -> count("SELECT count(*) FROM " + JobStore.TABLE + " WHERE status = 'success'") == jobs);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("10,000 one-off jobs through 3 nodes x 4 workers: %.1f s, %.0f jobs/s submitted, claimed "
                + "and completed (shared 2-core machine)%n", seconds, jobs / seconds);
        assertThat(count("SELECT count(*) FROM ran")).isEqualTo(jobs);
        assertThat(count("SELECT count(*) FROM " + JobStore.TABLE + " WHERE attempts <> 1")).isZero();
        assertThat(count("SELECT count(DISTINCT node) FROM ran")).isEqualTo(3);
    }

    @Test
    void submitJobOnceRefusesWhileOneIsPendingOrRunningUnderConcurrentSubmitters() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        List<JobServer> nodes = new ArrayList<>();
        for (String id : List.of("node-a", "node-b", "node-c")) {
            JobServer s = server(id, FAST);
            s.registerJobHandler("reindex", 1, ctx -> {
                runs.incrementAndGet();
                release.await(30, TimeUnit.SECONDS);
            });
            s.start();
            nodes.add(s);
        }
        for (int round = 0; round < 2; round++) {  // pending in one round, running in the next
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            ExecutorService submitters = Executors.newFixedThreadPool(12);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                JobServer s = nodes.get(i % 3);
                done.add(submitters.submit(() -> {
                    go.await();
                    for (int k = 0; k < 5; k++) {
                        try {
                            s.submitJobOnce("reindex", Map.of());
                            accepted.incrementAndGet();
                        } catch (JobAlreadyActiveException e) {
                            refused.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(1, TimeUnit.MINUTES);
            }
            submitters.shutdown();
            assertThat(accepted.get()).as("round %d", round).isEqualTo(round == 0 ? 1 : 0);
            assertThat(refused.get()).isEqualTo(60 - accepted.get());
            await().atMost(LONG).until(() -> runs.get() == 1);
        }
        release.countDown();
        await().atMost(LONG).until(() -> count("SELECT count(*) FROM " + JobStore.TABLE + " WHERE status = 'success'") == 1);
        assertThat(nodes.get(1).submitJobOnce("reindex", Map.of())).isNotNull();  // finished: accepted again
    }

    @Test
    void cancellationReachesARunningHandlerOnAnotherNodeWithinASecond() throws Exception {
        AtomicLong sawCancelNanos = new AtomicLong();
        CountDownLatch running = new CountDownLatch(1);
        JobServer worker = server("node-a", JobServerSettings.defaults());  // default heartbeat: 500 ms
        worker.registerJobHandler("export", 1, ctx -> {
            running.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!ctx.isCancelled() && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    break;  // the cancel interrupts the handler's thread
                }
            }
            sawCancelNanos.set(System.nanoTime());
        });
        worker.start();
        JobServer other = server("node-b", JobServerSettings.defaults());
        other.start();
        Job job = other.submitJob("export", Map.of());
        assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
        long cancelled = System.nanoTime();
        assertThat(other.cancelJob(job.id())).isTrue();
        await().atMost(LONG).until(() -> sawCancelNanos.get() != 0);
        long millis = TimeUnit.NANOSECONDS.toMillis(sawCancelNanos.get() - cancelled);
        System.out.println("cancel reached the running handler on another node after " + millis + " ms");
        assertThat(millis).as("cancel to handler, ms").isLessThan(1000);
        await().atMost(LONG).until(() -> other.job(job.id()).orElseThrow().status() == JobStatus.CANCELED);
        assertThat(other.cancelJob(job.id())).isFalse();  // finished: nothing to cancel
    }

    @Test
    void aPendingJobIsCanceledAtOnce() throws Exception {
        JobServer s = server("node-a", FAST);  // no handler for the type: it stays pending
        s.start();
        Job job = s.submitJob("nobody-runs-this", Map.of());
        assertThat(s.cancelJob(job.id())).isTrue();
        assertThat(s.job(job.id()).orElseThrow().status()).isEqualTo(JobStatus.CANCELED);
    }

    @Test
    void aJobWhoseWorkerStopsIsRetriedElsewhereAndItsLateWritesAreRefused() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch stalledWriteDone = new CountDownLatch(1);
        AtomicReference<Boolean> stalledHeld = new AtomicReference<>();
        JobServer crashing = server("node-a", FAST);
        crashing.registerJobHandler("sync", 1, ctx -> {
            started.countDown();
            // a handler stuck past the abandonment timeout (deaf to interrupts), then trying to write
            long until = System.nanoTime() + FAST.abandonedAfter().multipliedBy(4).toNanos();
            while (System.nanoTime() < until) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ignored) {
                    // a stalled process hears nothing
                }
            }
            try (Connection c = pool.getConnection()) {
                c.setAutoCommit(false);
                // the database's answer, not the context's local flag
                stalledHeld.set(JobStore.holdsClaim(c, ctx.job().id(), ctx.fencingToken()));
                c.rollback();
            } finally {
                stalledWriteDone.countDown();
            }
        });
        crashing.start();
        Job job = crashing.submitJob("sync", Map.of("cursor", "0"));
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        lead("node-b");
        crashing.halt();  // as kill -9: no heartbeat, no hand-back; the handler thread is told
        JobServer survivor = server("node-b", FAST);
        survivor.registerJobHandler("sync", 1, recordRun("node-b"));
        survivor.start();
        await().atMost(LONG).until(() -> survivor.job(job.id()).orElseThrow().status() == JobStatus.SUCCESS);
        Job done = survivor.job(job.id()).orElseThrow();
        assertThat(done.attempts()).isEqualTo(2);
        assertThat(done.workerId()).contains("node-b");
        assertThat(done.fencingToken()).isGreaterThan(job.fencingToken());
        assertThat(stalledWriteDone.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(stalledHeld.get()).as("the first claim after the retry").isFalse();
        assertThat(count("SELECT count(*) FROM ran")).isEqualTo(1);
    }

    @Test
    void aFailingHandlerIsRetriedWithBackoffThenEndsInError() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        JobServer s = server("node-a", FAST);
        s.registerJobHandler("flaky", 1, ctx -> {
            calls.incrementAndGet();
            throw new IllegalStateException("upstream said no\nsecond line");
        });
        s.start();
        Job job = s.submitJob("flaky", Map.of());
        await().atMost(LONG).until(() -> s.job(job.id()).orElseThrow().status() == JobStatus.ERROR);
        Job failed = s.job(job.id()).orElseThrow();
        assertThat(calls.get()).isEqualTo(3);
        assertThat(failed.attempts()).isEqualTo(3);
        assertThat(failed.lastError()).hasValueSatisfying(e -> assertThat(e)
                .contains("upstream said no").doesNotContain("\n"));
    }

    @Test
    void progressAndDataAreVisibleToEveryNode() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        JobServer a = server("node-a", FAST);
        a.registerJobHandler("migrate", 1, ctx -> {
            ctx.setProgress(40);
            ctx.putData("cursor", "17");
            release.await(30, TimeUnit.SECONDS);
        });
        a.start();
        JobServer b = server("node-b", FAST);
        b.start();
        Job job = b.submitJob("migrate", Map.of("table", "posts"));
        await().atMost(LONG).until(() -> b.job(job.id()).orElseThrow().progress() == 40);
        Job seen = b.job(job.id()).orElseThrow();
        assertThat(seen.data()).containsEntry("cursor", "17").containsEntry("table", "posts");
        assertThat(seen.status()).isEqualTo(JobStatus.IN_PROGRESS);
        assertThat(b.jobs("migrate", Set.of(JobStatus.IN_PROGRESS), 10)).extracting(Job::id).containsExactly(job.id());
        release.countDown();
        await().atMost(LONG).until(() -> b.job(job.id()).orElseThrow().status() == JobStatus.SUCCESS);
        assertThat(b.job(job.id()).orElseThrow().progress()).isEqualTo(100);
    }

    @Test
    void aOneSecondPeriodicJobHasOneRowAndOneRunPerSlotAcrossLeaderChanges() throws Exception {
        Map<String, JobServer> nodes = new java.util.LinkedHashMap<>();
        for (String id : List.of("node-a", "node-b", "node-c")) {
            JobServer s = server(id, FAST);
            s.registerPeriodicJob("tick", JobSchedule.every(Duration.ofSeconds(1)), MisfirePolicy.RUN_ALL, recordRun(id));
            s.start();
            nodes.put(id, s);
        }
        lead("node-a");
        Instant firstSlot = awaitSlots(1).get(0);
        String[] order = {"node-b", "node-c", "node-a", "node-c", "node-b", "node-a"};
        for (String next : order) {
            Thread.sleep(1200);
            lead(next);  // a new leader continues from the table, at once
        }
        Thread.sleep(1500);
        leader.set("");  // nobody schedules: the rows already created still run
        Instant now = dbNow();
        // without a leader no row is added; the one created ahead comes due within a second
        await().atMost(LONG).until(() -> count("SELECT count(*) FROM " + JobStore.TABLE
                + " WHERE status IN ('pending','in_progress')") == 0);
        List<Instant> slots = slotsWithStatus("success");
        List<Instant> all = slotsWithStatus(null);
        assertThat(all).as("no slot has two rows").doesNotHaveDuplicates();
        // every slot from the first to the last due one has exactly one row, and it succeeded
        List<Instant> expected = new ArrayList<>();
        for (Instant t = firstSlot; !t.isAfter(now); t = t.plusSeconds(1)) {
            expected.add(t);
        }
        assertThat(slots).containsAll(expected);
        assertThat(count("SELECT count(*) FROM ran")).isEqualTo(slots.size());
        assertThat(count("SELECT count(*) FROM ran r JOIN " + JobStore.TABLE + " j ON j.id = r.job_id")).isEqualTo(slots.size());
        System.out.println("periodic 1 s job across " + order.length + " leader changes: " + slots.size()
                + " slots, each one row and one run");
    }

    @Test
    void aDeposedLeaderCreatesNoSlot() throws Exception {
        JobServer a = server("node-a", FAST);
        a.registerPeriodicJob("tick", JobSchedule.every(Duration.ofSeconds(1)), MisfirePolicy.SKIP, ctx -> { });
        a.start();
        lead("node-a");
        awaitSlots(1);
        // node-a still believes it leads (its supplier says so) but the lease row names node-b
        long token = leaseToken.get();
        execute("UPDATE " + JobStore.LEASE_TABLE + " SET holder_id = 'node-b', fencing_token = " + (token + 1));
        int rows = count("SELECT count(*) FROM " + JobStore.TABLE);
        Thread.sleep(2500);
        assertThat(count("SELECT count(*) FROM " + JobStore.TABLE)).isEqualTo(rows);
    }

    @Test
    void badInputIsRefusedClearly() throws Exception {
        JobServer s = server("node-a", FAST);
        assertThatThrownBy(() -> s.submitJob("bad type\n", Map.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'bad type?'");
        assertThatThrownBy(() -> s.submitJob("big", Map.of("k", "x".repeat(JobStore.MAX_DATA_BYTES))))
                .hasMessageContaining("at most " + JobStore.MAX_DATA_BYTES);
        assertThatThrownBy(() -> s.registerJobHandler("t", 0, ctx -> { })).hasMessageContaining("workers must be 1 to");
        assertThatThrownBy(() -> s.jobs(null, Set.of(), 0)).hasMessageContaining("limit must be 1 to");
        s.registerJobHandler("t", 1, ctx -> { });
        assertThatThrownBy(() -> s.registerJobHandler("t", 1, ctx -> { })).isInstanceOf(IllegalStateException.class);
    }

    private List<Instant> awaitSlots(int n) {
        await().atMost(LONG).until(() -> slotsWithStatus(null).size() >= n);
        return slotsWithStatus(null);
    }

    private static List<Instant> slotsWithStatus(String status) {
        List<Instant> out = new ArrayList<>();
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT slot FROM "
                + JobStore.TABLE + " WHERE slot IS NOT NULL AND (?::text IS NULL OR status = ?) ORDER BY slot")) {
            ps.setString(1, status);
            ps.setString(2, status);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getObject(1, java.time.OffsetDateTime.class).toInstant());
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private static Instant dbNow() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getObject(1, java.time.OffsetDateTime.class).toInstant();
        }
    }

    private static int count(String sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void execute(String sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
