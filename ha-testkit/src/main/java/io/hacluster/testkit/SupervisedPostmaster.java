package io.hacluster.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One run of a postmaster, launched under a small {@code sh} watchdog so that it cannot outlive
 * the JVM.
 *
 * <p>The watchdog's standard input is a pipe whose only writer is this JVM. It blocks reading one
 * line: {@code fast} or {@code immediate} asks for that shutdown mode; end of file means the JVM is
 * gone (normal exit, crash, {@code kill -9}: the kernel closes the pipe in every case) and gets an
 * immediate shutdown. No polling of pids, so no pid-reuse race. If a shutdown does not finish it
 * escalates (fast, then immediate after 15 s, then SIGKILL after 30 s). When {@code setpriv} is
 * available the postmaster also carries a parent-death signal (SIGQUIT), so killing the watchdog
 * itself still stops the server. Shutdown shortcuts such as a JVM shutdown hook are therefore
 * only a convenience here, not the guarantee.
 */
final class SupervisedPostmaster {

    /**
     * $1 data directory, $2 "exec" (the child is the postmaster) or "fork" (runuser: read the
     * postmaster pid from postmaster.pid), then the server command.
     */
    private static final String WATCHDOG = String.join("\n",
            "data=$1; mode=$2; shift 2",
            "\"$@\" </dev/null &",
            "child=$!",
            "exec 3<&0 0</dev/null",
            "postmaster() {",
            "  if [ \"$mode\" = exec ]; then echo \"$child\"; else sed -n 1p \"$data/postmaster.pid\" 2>/dev/null; fi",
            "}",
            "(",
            "  IFS= read -r request <&3 || request=immediate",
            "  exec 3<&-",
            // The watchdog itself was killed: the postmaster got its parent-death signal already,
            // and $child may no longer name it.
            "  kill -0 $$ 2>/dev/null || exit 0",
            "  case \"$request\" in fast) sig=INT ;; *) sig=QUIT ;; esac",
            "  n=0; sent=",
            "  while kill -0 \"$child\" 2>/dev/null; do",
            "    case $n in 150) sig=QUIT; sent= ;; 300) sig=KILL; sent= ;; esac",
            "    if [ -z \"$sent\" ]; then",
            // A postmaster not yet far enough to have written its pid file gets the signal next round.
            "      pid=$(postmaster)",
            "      if [ -z \"$pid\" ] && [ $n -ge 300 ]; then pid=$child; fi",
            "      if [ -n \"$pid\" ]; then kill -s \"$sig\" \"$pid\" 2>/dev/null; sent=1; fi",
            // A paused server (PostgresServer.pause) acts on no signal but KILL until continued;
            // continuing a running one does nothing. Children first, as in resume().
            "      if [ -n \"$pid\" ]; then",
            "        for c in $(cat /proc/\"$pid\"/task/*/children 2>/dev/null); do kill -s CONT \"$c\" 2>/dev/null; done",
            "        kill -s CONT \"$pid\" 2>/dev/null",
            "      fi",
            "    fi",
            "    n=$((n+1))",
            "    sleep 0.1",
            "  done",
            ") &",
            "watcher=$!",
            "wait \"$child\"; rc=$?",
            "kill \"$watcher\" 2>/dev/null",
            "exit $rc",
            "");

    private static final int READY_POLL_MILLIS = 25;

    private final Process watchdog;
    private final Path dataDir;
    private final Path logFile;

    private SupervisedPostmaster(Process watchdog, Path dataDir, Path logFile) {
        this.watchdog = watchdog;
        this.dataDir = dataDir;
        this.logFile = logFile;
    }

    /**
     * Launches {@code postgres -D dataDir} as the server user, output appended to {@code logFile},
     * and returns once it accepts connections.
     *
     * @throws PostgresTestkitException if it exits or is not ready within {@code timeout}; the
     *     message carries the last lines of the log
     */
    static SupervisedPostmaster launch(String serverName, PostgresBinaries binaries, ServerUser user, Path dataDir,
            Path logFile, Duration timeout) {
        try {
            // A pid file left by a killed run would make "ready" look true before the new server is up.
            Files.deleteIfExists(dataDir.resolve("postmaster.pid"));
            if (!Files.exists(logFile)) {
                // Owner-only: a failed statement is logged with its text, and some carry a password.
                Files.createFile(logFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
        } catch (IOException e) {
            throw new PostgresTestkitException("Cannot prepare the start of " + serverName + ": " + e, e);
        }
        List<String> command = new ArrayList<>(List.of("sh", "-c", WATCHDOG, "ha-pg-watchdog", dataDir.toString(),
                user.serverExecs() ? "exec" : "fork"));
        command.addAll(user.server(List.of(binaries.program("postgres").toString(), "-D", dataDir.toString())));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        builder.environment().put("LC_ALL", "C");
        builder.environment().remove("PGDATA");
        Process watchdog;
        try {
            watchdog = builder.start();
        } catch (IOException e) {
            throw new PostgresTestkitException("Cannot launch postgres for " + serverName + ": " + e, e);
        }
        SupervisedPostmaster postmaster = new SupervisedPostmaster(watchdog, dataDir, logFile);
        try {
            postmaster.awaitReady(serverName, timeout);
        } catch (RuntimeException | Error e) {
            // Nobody will hold this postmaster: end of file makes its watchdog shut it down.
            postmaster.abandon();
            throw e;
        }
        return postmaster;
    }

    private void awaitReady(String serverName, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!watchdog.isAlive()) {
                throw new PostgresTestkitException("PostgreSQL server " + serverName + " exited during startup (code "
                        + watchdog.exitValue() + "). Last lines of " + logFile + ":\n" + Files2.tail(logFile, 30));
            }
            List<String> pidFile = Postmasters.pidFileLines(dataDir);
            // Line 8 is the postmaster status: "ready" once it accepts connections (for a hot
            // standby: once it reached a consistent state and accepts read-only connections).
            if (pidFile.size() >= 8 && pidFile.get(7).trim().equals("ready")) {
                return;
            }
            if (System.nanoTime() > deadline) {
                stop(false, Duration.ofSeconds(30));
                throw new PostgresTestkitException("PostgreSQL server " + serverName + " was not ready within " + timeout
                        + ". Last lines of " + logFile + ":\n" + Files2.tail(logFile, 30));
            }
            sleep(READY_POLL_MILLIS);
        }
    }

    /** Whether the postmaster (as seen through its watchdog) is still running. */
    boolean isAlive() {
        return watchdog.isAlive();
    }

    /** The postmaster's pid, if it is running and has written its pid file. */
    Optional<Long> postmasterPid() {
        return watchdog.isAlive() ? Postmasters.pidOf(dataDir) : Optional.empty();
    }

    /** The watchdog's pid (the postmaster's parent, or grandparent under runuser). */
    long watchdogPid() {
        return watchdog.pid();
    }

    /**
     * Asks for a fast (checkpoint, clean) or immediate (crash-like) shutdown and waits until the
     * postmaster and its watchdog have exited.
     */
    void stop(boolean fast, Duration timeout) {
        if (!watchdog.isAlive()) {
            closeControl(); // releases a watcher left behind by a killed watchdog
            return;
        }
        Optional<Long> pid = Postmasters.pidOf(dataDir);
        try {
            OutputStream control = watchdog.getOutputStream();
            control.write((fast ? "fast\n" : "immediate\n").getBytes(StandardCharsets.US_ASCII));
            control.flush();
            control.close();
        } catch (IOException e) {
            // The watchdog is exiting already; waiting below tells.
        }
        try {
            if (!watchdog.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                watchdog.destroyForcibly();
                pid.ifPresent(p -> Postmasters.signal(p, "KILL"));
                throw new PostgresTestkitException("PostgreSQL in " + dataDir + " did not stop within " + timeout
                        + "; killed it. Last lines of " + logFile + ":\n" + Files2.tail(logFile, 20));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PostgresTestkitException("Interrupted while stopping PostgreSQL in " + dataDir, e);
        }
        // The watchdog exits only after its child; under runuser the child is runuser, which waits
        // for the postmaster. Checked anyway: this class promises no postmaster outlives a stop.
        if (pid.isPresent() && !Postmasters.awaitExit(pid.get(), timeout.toMillis())) {
            throw new PostgresTestkitException("Postmaster " + pid.get() + " of " + dataDir + " outlived its watchdog");
        }
    }

    /** Closes the control pipe without a request: what the watchdog sees when the JVM dies. */
    void abandon() {
        closeControl();
    }

    private void closeControl() {
        try {
            watchdog.getOutputStream().close();
        } catch (IOException e) {
            // already closed
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PostgresTestkitException("Interrupted while waiting for PostgreSQL", e);
        }
    }
}
