package io.hacluster.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link PostgresServer#pause()}: every process of the server stops (the postmaster and each of
 * its children, the test's own backend among them), a statement on an open connection waits
 * instead of failing, and after {@link PostgresServer#resume()} it completes and new connections
 * work; stopping a paused server works.
 */
class PauseResumeTest {

    @Test
    void pauseStopsEveryProcessOfTheServerUntilResumed() throws Exception {
        ExecutorService client = Executors.newSingleThreadExecutor();
        try (PostgresTopology pg = PostgresTopology.start(0)) {
            PostgresServer primary = pg.primary();
            long postmaster = ((EmbeddedPostgresServer) primary).postmasterPid().orElseThrow();
            try (Connection c = primary.connect()) {
                long backend;
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
                    rs.next();
                    backend = rs.getLong(1);
                }
                List<Long> children = ProcessHandle.of(postmaster).orElseThrow().descendants()
                        .map(ProcessHandle::pid).toList();
                assertThat(children).as("the test's backend is a child of the postmaster").contains(backend);

                primary.pause();

                assertThat(primary.isPaused()).isTrue();
                assertThat(Postmasters.isStoppedOrGone(postmaster)).as("postmaster stopped").isTrue();
                assertThat(children).allMatch(Postmasters::isStoppedOrGone, "every child stopped");
                assertThat(Postmasters.isAlive(backend)).as("stopped, not gone").isTrue();
                CompletableFuture<Integer> query = CompletableFuture.supplyAsync(() -> {
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 42")) {
                        rs.next();
                        return rs.getInt(1);
                    } catch (java.sql.SQLException e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                }, client);
                // the backend is stopped: whatever the machine's load, it cannot answer before resume()
                TimeUnit.MILLISECONDS.sleep(500);
                assertThat(query).isNotDone();
                assertThat(Postmasters.isStoppedOrGone(backend)).isTrue();

                primary.resume();

                assertThat(primary.isPaused()).isFalse();
                assertThat(query.get(30, TimeUnit.SECONDS)).isEqualTo(42);
                assertThat(Postmasters.isStoppedOrGone(postmaster)).isFalse();
            }
            try (Connection fresh = primary.connect(); Statement st = fresh.createStatement();
                 ResultSet rs = st.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }

            primary.pause();
            primary.stop();  // resumes first: a stopped postmaster would not act on the shutdown request
            assertThat(primary.isPaused()).isFalse();
            assertThat(primary.isRunning()).isFalse();
            assertThat(Postmasters.isAlive(postmaster)).isFalse();
            primary.start();
            await().atMost(Duration.ofSeconds(30)).until(primary::isRunning);
            try (Connection again = primary.connect(); Statement st = again.createStatement();
                 ResultSet rs = st.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        } finally {
            client.shutdownNow();
        }
    }

    /**
     * A JVM that dies while its server is paused must not leave stopped processes behind: the
     * watchdog continues the postmaster and its children with its shutdown signal. Without that
     * the postmaster would act on nothing until the watchdog's SIGKILL 30 s later, and its stopped
     * children would stay stopped for good.
     */
    @Test
    void aPausedServerWhoseJvmGoesAwayIsShutDownAndLeavesNoProcess() throws Exception {
        EmbeddedRuntime runtime = EmbeddedRuntime.get();
        Path directory = runtime.run().newTopologyDirectory();
        Path dataDir = directory.resolve("data");
        Commands.run(List.of("cp", "-a", runtime.template().dataDir().toString(), dataDir.toString()), 120);
        PostgresTemplate.writeServerConf(dataDir, "port = " + FreePorts.pick() + "\n");
        SupervisedPostmaster postmaster = SupervisedPostmaster.launch("paused-eof", runtime.binaries(), runtime.user(),
                dataDir, directory.resolve("postgres.log"), Duration.ofSeconds(120));
        long pid = postmaster.postmasterPid().orElseThrow();
        List<Long> children = ProcessHandle.of(pid).orElseThrow().descendants().map(ProcessHandle::pid).toList();
        assertThat(children).isNotEmpty();
        Postmasters.signal(pid, "STOP");
        Postmasters.signalAll(children, "STOP");
        await().atMost(Duration.ofSeconds(10)).until(() -> Postmasters.isStoppedOrGone(pid)
                && children.stream().allMatch(Postmasters::isStoppedOrGone));

        postmaster.abandon();  // what the watchdog sees when the JVM dies: immediate shutdown

        // well before the watchdog's escalation to SIGQUIT again (15 s) and SIGKILL (30 s)
        await("the paused postmaster and its children exit").atMost(Duration.ofSeconds(12))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> !Postmasters.isAlive(pid) && children.stream().noneMatch(Postmasters::isAlive));
        assertThat(ChildJvmKillTest.processesMentioning(dataDir)).isEmpty();
    }
}
