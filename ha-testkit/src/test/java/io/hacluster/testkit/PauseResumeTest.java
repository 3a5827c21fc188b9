package io.hacluster.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
}
