package io.hacluster.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The watchdog protocol on a bare data directory, for both ways of switching user when root:
 * setpriv (the postmaster is the launched process) and runuser (it is runuser's child, found
 * through postmaster.pid).
 */
class SupervisedPostmasterTest {

    @ParameterizedTest
    @ValueSource(strings = {"setpriv", "runuser"})
    void endOfFileOnTheControlPipeStopsThePostmaster(String switcher) throws Exception {
        ServerUser user = userFor(switcher);
        EmbeddedRuntime runtime = EmbeddedRuntime.get();
        Path directory = runtime.run().newTopologyDirectory();
        Path dataDir = directory.resolve("data");
        Path logFile = directory.resolve("postgres.log");
        Commands.run(List.of("cp", "-a", runtime.template().dataDir().toString(), dataDir.toString()), 120);
        PostgresTemplate.writeServerConf(dataDir, "port = " + FreePorts.pick() + "\n");
        try {
            // End of file, as when the JVM dies: immediate shutdown.
            SupervisedPostmaster postmaster = SupervisedPostmaster.launch("eof-" + switcher, runtime.binaries(), user,
                    dataDir, logFile, Duration.ofSeconds(120));
            long pid = postmaster.postmasterPid().orElseThrow();
            assertThat(Postmasters.isAlive(pid)).isTrue();
            postmaster.abandon();
            await("postmaster exits on end of file").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !Postmasters.isAlive(pid));
            await().atMost(Duration.ofSeconds(10)).until(() -> !postmaster.isAlive());
            assertThat(Files2.tail(logFile, 20)).contains("immediate shutdown request");
            if (switcher.equals("setpriv")) {
                return; // fast stop and kill through setpriv run in every topology test
            }

            SupervisedPostmaster fast = SupervisedPostmaster.launch("fast-" + switcher, runtime.binaries(), user, dataDir,
                    logFile, Duration.ofSeconds(120));
            long fastPid = fast.postmasterPid().orElseThrow();
            fast.stop(true, Duration.ofSeconds(60));
            assertThat(Postmasters.isAlive(fastPid)).isFalse();
            assertThat(Files2.tail(logFile, 20)).contains("fast shutdown request");

            SupervisedPostmaster immediate = SupervisedPostmaster.launch("kill-" + switcher, runtime.binaries(), user,
                    dataDir, logFile, Duration.ofSeconds(120));
            long immediatePid = immediate.postmasterPid().orElseThrow();
            immediate.stop(false, Duration.ofSeconds(60));
            assertThat(Postmasters.isAlive(immediatePid)).isFalse();
            assertThat(ChildJvmKillTest.processesMentioning(dataDir)).isEmpty();
        } finally {
            Files2.deleteRecursively(directory);
        }
    }

    @Test
    void startupFailureCarriesTheServerLog() throws Exception {
        EmbeddedRuntime runtime = EmbeddedRuntime.get();
        Path directory = runtime.run().newTopologyDirectory();
        Path dataDir = directory.resolve("data");
        Commands.run(List.of("cp", "-a", runtime.template().dataDir().toString(), dataDir.toString()), 120);
        PostgresTemplate.writeServerConf(dataDir, "port = " + FreePorts.pick() + "\nshared_buffers = 'lots'\n");
        try {
            assertThatThrownBy(() -> SupervisedPostmaster.launch("broken", runtime.binaries(), runtime.user(), dataDir,
                    directory.resolve("postgres.log"), Duration.ofSeconds(120)))
                    .isInstanceOf(PostgresTestkitException.class)
                    .hasMessageContaining("exited during startup")
                    .hasMessageContaining("shared_buffers");
        } finally {
            Files2.deleteRecursively(directory);
        }
    }

    @Test
    void missingServerUserFailsWithTheCommandThatCreatesIt() {
        Assumptions.assumeTrue(ServerUser.jvmIsRoot(), "only root switches user");
        assertThatThrownBy(() -> ServerUser.forRoot("ha-no-such-user", "setpriv"))
                .isInstanceOf(PostgresTestkitException.class)
                .hasMessageContaining("useradd --system --no-create-home --shell /usr/sbin/nologin ha-no-such-user")
                .hasMessageContaining(ServerUser.USER_PROPERTY);
    }

    private static ServerUser userFor(String switcher) {
        if (!ServerUser.jvmIsRoot()) {
            Assumptions.assumeTrue(switcher.equals("setpriv"), "user switching needs root");
            return ServerUser.detect();
        }
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/" + switcher))
                || Files.isExecutable(Path.of("/usr/sbin/" + switcher)) || Files.isExecutable(Path.of("/bin/" + switcher))
                || Files.isExecutable(Path.of("/sbin/" + switcher)), switcher + " installed");
        return ServerUser.forRoot(EmbeddedRuntime.get().user().name(), switcher);
    }
}
