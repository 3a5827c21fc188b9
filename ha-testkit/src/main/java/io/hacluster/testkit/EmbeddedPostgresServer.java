package io.hacluster.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A server of an {@link EmbeddedPostgresTopology}: a data directory, a port and, while running, a postmaster. */
final class EmbeddedPostgresServer extends AbstractPostgresServer<EmbeddedPostgresServer> {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final int START_ATTEMPTS = 5;

    private final EmbeddedRuntime runtime;
    private final Path directory;
    private final Path dataDir;
    private final Path logFile;
    private volatile int port;
    private SupervisedPostmaster postmaster; // guarded by this
    /** The postmaster's pid while paused, else null. */
    private Long pausedPid; // guarded by this

    EmbeddedPostgresServer(String name, EmbeddedRuntime runtime, Path directory, String appPassword,
            EmbeddedPostgresServer upstream) {
        super(name, appPassword, upstream, upstream != null);
        this.runtime = runtime;
        this.directory = directory;
        this.dataDir = directory.resolve("data");
        this.logFile = directory.resolve("postgres.log");
    }

    /**
     * Copies the template, configures this server and starts it for the first time. A port taken
     * meanwhile by someone else is replaced by another free one.
     */
    void create() {
        try {
            Files.createDirectories(directory);
            // Explicit: a umask of 077 would lock the server user out of its own data directory.
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new PostgresTestkitException("Cannot create " + directory + ": " + e, e);
        }
        long copyStarted = System.nanoTime();
        // cp -a keeps owner and modes (0700 data directory of the server user).
        Commands.run(List.of("cp", "-a", runtime.template().dataDir().toString(), dataDir.toString()), 120);
        log.debug("Copied the template for {} in {} ms", name(), (System.nanoTime() - copyStarted) / 1_000_000);
        if (isStandby()) {
            try {
                Files.writeString(dataDir.resolve("standby.signal"), "");
            } catch (IOException e) {
                throw new PostgresTestkitException("Cannot write standby.signal for " + name() + ": " + e, e);
            }
        }
        for (int attempt = 1; ; attempt++) {
            port = FreePorts.pick();
            PostgresTemplate.writeServerConf(dataDir, serverConf());
            long logSize = logSize();
            try {
                start();
                return;
            } catch (PostgresTestkitException e) {
                boolean portTaken = Files2.readFrom(logFile, logSize).contains("could not bind");
                if (!portTaken || attempt == START_ATTEMPTS) {
                    throw e;
                }
                log.info("Port {} of {} was taken meanwhile; trying another", port, name());
            }
        }
    }

    private long logSize() {
        try {
            return Files.exists(logFile) ? Files.size(logFile) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private String serverConf() {
        StringBuilder conf = new StringBuilder()
                .append("port = ").append(port).append('\n')
                .append("cluster_name = '").append(name()).append("'\n");
        EmbeddedPostgresServer upstream = upstream();
        if (upstream != null) {
            conf.append("primary_conninfo = '").append(primaryConninfo(upstream)).append("'\n")
                    .append("primary_slot_name = '").append(slotName()).append("'\n");
        }
        return conf.toString();
    }

    /** How this server, as a standby, reaches {@code source}: superuser over TCP with its password. */
    String primaryConninfo(EmbeddedPostgresServer source) {
        return "host=127.0.0.1 port=" + source.port() + " user=" + PostgresTemplate.SUPERUSER + " password="
                + superuserPassword() + " application_name=" + name() + " connect_timeout=5";
    }

    /** Name of this standby's physical replication slot on its upstream. */
    String slotName() {
        return name();
    }

    Optional<Long> postmasterPid() {
        SupervisedPostmaster current;
        synchronized (this) {
            current = postmaster;
        }
        return current == null ? Optional.empty() : current.postmasterPid();
    }

    /** Pid of the watchdog shell of the running postmaster, for tests that kill it. */
    synchronized Optional<Long> watchdogPid() {
        return postmaster == null || !postmaster.isAlive() ? Optional.empty() : Optional.of(postmaster.watchdogPid());
    }

    Path dataDir() {
        return dataDir;
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    String superuserPassword() {
        return runtime.template().superuserPassword();
    }

    @Override
    public synchronized void stop() {
        shutdown(true);
    }

    @Override
    public synchronized void kill() {
        shutdown(false);
    }

    private void shutdown(boolean fast) {
        if (postmaster == null) {
            return;
        }
        resume();  // a stopped postmaster would only act on the shutdown signal once continued
        try {
            postmaster.stop(fast, STOP_TIMEOUT);
        } finally {
            postmaster = null;
        }
        log.debug("{} {} (port {})", fast ? "Stopped" : "Killed", name(), port);
    }

    @Override
    public synchronized void start() {
        if (postmaster != null && postmaster.isAlive()) {
            return;
        }
        if (postmaster != null) {
            postmaster.stop(false, STOP_TIMEOUT); // it died on its own: release its watchdog's pipe
        }
        postmaster = null;
        long started = System.nanoTime();
        postmaster = SupervisedPostmaster.launch(name(), runtime.binaries(), runtime.user(), dataDir, logFile,
                START_TIMEOUT);
        log.debug("Started {} on port {} in {} ms", name(), port, (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * Stops the postmaster first, so it forks no new backend, waits until it is stopped, then
     * stops every descendant (backends, checkpointer, WAL writer...) and waits for each.
     */
    @Override
    public synchronized void pause() {
        if (pausedPid != null) {
            return;
        }
        long pid = postmasterPid().orElseThrow(() -> new IllegalStateException(name() + " is not running"));
        pausedPid = pid;
        Postmasters.signal(pid, "STOP");
        awaitStopped(List.of(pid));
        List<Long> children = ProcessHandle.of(pid).stream().flatMap(ProcessHandle::descendants)
                .map(ProcessHandle::pid).toList();
        Postmasters.signalAll(children, "STOP");
        awaitStopped(children);
        log.debug("Paused {} (postmaster {} and {} children)", name(), pid, children.size());
    }

    /** Continues the children first and the postmaster last, the reverse of {@link #pause()}. */
    @Override
    public synchronized void resume() {
        if (pausedPid == null) {
            return;
        }
        long pid = pausedPid;
        List<Long> children = ProcessHandle.of(pid).stream().flatMap(ProcessHandle::descendants)
                .map(ProcessHandle::pid).toList();
        Postmasters.signalAll(children, "CONT");
        Postmasters.signal(pid, "CONT");
        pausedPid = null;
        log.debug("Resumed {} (postmaster {})", name(), pid);
    }

    @Override
    public synchronized boolean isPaused() {
        return pausedPid != null;
    }

    private void awaitStopped(List<Long> pids) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (long pid : pids) {
            while (!Postmasters.isStoppedOrGone(pid)) {
                if (System.nanoTime() - deadline > 0) {
                    throw new PostgresTestkitException("process " + pid + " of " + name() + " did not stop on SIGSTOP");
                }
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PostgresTestkitException("interrupted while pausing " + name(), e);
                }
            }
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return postmaster != null && postmaster.isAlive();
    }

    @Override
    public String toString() {
        return "PostgresServer[" + name() + " 127.0.0.1:" + port + (isStandby() ? " standby" : " primary") + "]";
    }
}
