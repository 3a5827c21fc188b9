package io.hacluster.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.testkit.PostgresTopology;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A worker in its own JVM killed with SIGKILL in the middle of a job: the job goes back to pending
 * once its heartbeat stops, runs again on another node and ends in success with two attempts
 * recorded; the jobs the other nodes ran meanwhile each ran once.
 */
class JobWorkerKillProcessTest {

    static final JobServerSettings SETTINGS = JobServerSettings.defaults()
            .withPolling(Duration.ofMillis(50), Duration.ofMillis(200))
            .withAbandonedAfter(Duration.ofSeconds(2))
            .withRetries(3, Duration.ofMillis(100), Duration.ofSeconds(1))
            .withDrainTimeout(Duration.ofSeconds(2));
    private static final String CLUSTER = "jobs-kill-test";
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static PostgresTopology pg;
    private final List<JobServer> servers = new CopyOnWriteArrayList<>();
    private Process child;

    @BeforeAll
    static void startPostgres() throws SQLException {
        pg = PostgresTopology.start(0);
        try (Connection c = pg.primary().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE runs (job_id VARCHAR(26) NOT NULL, node TEXT NOT NULL)");
        }
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @AfterEach
    void stopAll() {
        if (child != null) {
            child.destroyForcibly();
        }
        servers.forEach(JobServer::close);
    }

    private JobServer server(String id) throws SQLException {
        JobServer s = new JobServer(id, CLUSTER, () -> pg.primary().connect(), true, SETTINGS, OptionalLong::empty, -1,
                () -> servers.forEach(JobServer::wake));
        s.prepare();
        servers.add(s);
        JobHandler record = ctx -> {
            try (Connection c = pg.primary().connect();
                 PreparedStatement ps = c.prepareStatement("INSERT INTO runs (job_id, node) VALUES (?, ?)")) {
                ps.setString(1, ctx.job().id());
                ps.setString(2, id);
                ps.executeUpdate();
            }
        };
        s.registerJobHandler("slow", 1, record);
        s.registerJobHandler("fast", 2, record);
        s.start();
        return s;
    }

    @Test
    void aWorkerKilledMidJobHasItsJobRetriedOnceElsewhere(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        child = new ProcessBuilder(java.toString(), "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), JobWorkerProcess.class.getName(), pg.primary().jdbcUrl(),
                pg.primary().user(), pg.primary().password(), CLUSTER, "child-worker")
                .redirectError(dir.resolve("child.err").toFile()).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (java.io.IOException gone) {
                // killed
            }
        });
        reader.setDaemon(true);
        reader.start();
        await().atMost(WAIT).until(() -> lines.contains("READY"));

        JobServer submitter = new JobServer("submitter", CLUSTER, () -> pg.primary().connect(), false, SETTINGS,
                OptionalLong::empty, -1, () -> servers.forEach(JobServer::wake));
        submitter.prepare();
        submitter.start();
        servers.add(submitter);
        Job slow = submitter.submitJob("slow", Map.of());
        await().atMost(WAIT).until(() -> lines.contains("STARTED " + slow.id() + " 1"));

        // the other nodes start, and run other jobs while the child holds the slow one
        server("node-b");
        server("node-c");
        List<String> fast = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            fast.add(submitter.submitJob("fast", Map.of("i", Integer.toString(i))).id());
        }
        long pid = child.pid();
        long killedAt = System.nanoTime();
        assertThat(new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor()).isZero();
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();

        await().atMost(WAIT).until(() -> submitter.job(slow.id()).orElseThrow().status() == JobStatus.SUCCESS);
        long retriedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        Job done = submitter.job(slow.id()).orElseThrow();
        assertThat(done.attempts()).isEqualTo(2);
        assertThat(done.workerId()).hasValueSatisfying(w -> assertThat(w).isIn("node-b", "node-c"));
        assertThat(done.lastError()).hasValueSatisfying(e -> assertThat(e).contains("child-worker stopped heartbeating"));
        assertThat(runsOf(slow.id())).isEqualTo(1);  // the child never got to record its run

        await().atMost(WAIT).until(() -> count("SELECT count(*) FROM ha_jobs WHERE type = 'fast' AND status = 'success'")
                == fast.size());
        for (String id : fast) {
            assertThat(runsOf(id)).as("runs of %s", id).isEqualTo(1);
        }
        assertThat(count("SELECT count(*) FROM ha_jobs WHERE type = 'fast' AND attempts <> 1")).isZero();
        System.out.println("killed worker's job ran again elsewhere " + retriedAfter + " ms after the SIGKILL "
                + "(abandoned after " + SETTINGS.abandonedAfter().toMillis() + " ms without a heartbeat)");
    }

    private static int runsOf(String jobId) throws SQLException {
        try (Connection c = pg.primary().connect();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM runs WHERE job_id = ?")) {
            ps.setString(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static int count(String sql) throws SQLException {
        try (Connection c = pg.primary().connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
