package io.hacluster.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The watchdog's own failure modes: killed itself, and the normal close path. */
class WatchdogTest {

    @Test
    void postmasterStopsWhenItsWatchdogIsKilled() throws Exception {
        try (EmbeddedPostgresTopology topology = EmbeddedPostgresTopology.start(0)) {
            EmbeddedPostgresServer server = (EmbeddedPostgresServer) topology.primary();
            long postmaster = server.postmasterPid().orElseThrow();
            long watchdog = server.watchdogPid().orElseThrow();

            Postmasters.signal(watchdog, "KILL");

            // setpriv's parent-death signal (SIGQUIT) reaches the postmaster.
            await("postmaster exits after its watchdog was killed").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> !Postmasters.isAlive(postmaster));
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.isRunning());
            await("nothing left in the data directory").atMost(Duration.ofSeconds(10))
                    .until(() -> ChildJvmKillTest.processesMentioning(server.dataDir()).isEmpty());

            server.start(); // crash recovery, same port
            try (Connection c = server.connect(); Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT 1")) {
                assertThat(r.next()).isTrue();
            }
        }
    }

    @Test
    void sweepStopsPostmastersLeftInTheRunDirectoryOfADeadJvmAndDeletesIt() throws Exception {
        EmbeddedRuntime runtime = EmbeddedRuntime.get();
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path base = Files.createTempDirectory(RunDirectory.base(), "ha-testkit-sweep-");
        SupervisedPostmaster leftover = null;
        try {
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path run = Files.createDirectory(base.resolve("ha-testkit-run-" + gone.pid() + "-1"));
            Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.writeString(run.resolve("owner"), gone.pid() + " 0\n");
            Path serverDir = Files.createDirectory(run.resolve("primary"));
            Files.setPosixFilePermissions(serverDir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path dataDir = serverDir.resolve("data");
            Commands.run(List.of("cp", "-a", runtime.template().dataDir().toString(), dataDir.toString()), 120);
            PostgresTemplate.writeServerConf(dataDir, "port = " + FreePorts.pick() + "\n");
            leftover = SupervisedPostmaster.launch("leftover", runtime.binaries(), runtime.user(), dataDir,
                    serverDir.resolve("postgres.log"), Duration.ofSeconds(120));
            long pid = leftover.postmasterPid().orElseThrow();

            RunDirectory.sweepStale(base);

            assertThat(Postmasters.isAlive(pid)).isFalse();
            assertThat(run).doesNotExist();
        } finally {
            if (leftover != null) {
                leftover.stop(false, Duration.ofSeconds(30));
            }
            Files2.deleteRecursively(base);
        }
    }

    @Test
    void closeLeavesNoProcessAndNoFiles() throws Exception {
        EmbeddedPostgresTopology topology = EmbeddedPostgresTopology.start(1);
        List<Long> pids = topology.postmasterPids();
        assertThat(pids).hasSize(2).allMatch(Postmasters::isAlive);

        topology.close();

        assertThat(pids).noneMatch(Postmasters::isAlive);
        assertThat(ChildJvmKillTest.processesMentioning(topology.directory())).isEmpty();
        assertThat(topology.directory()).doesNotExist();
        topology.close(); // idempotent
    }
}
