package io.hacluster.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This JVM's directory for PostgreSQL data: {@code <base>/ha-testkit-run-<pid>-<random>} (base:
 * {@code /dev/shm} or {@code /tmp}, see {@link #base()}), with an owner file naming the JVM (pid
 * and start time).
 *
 * <p>A JVM killed with {@code kill -9} cannot delete its files, and in the worst case (its
 * watchdogs killed too) leaves a postmaster behind. The first JVM to use the testkit afterwards
 * sweeps such directories: it stops any postmaster still running in them and deletes them.
 */
final class RunDirectory {

    /** Overrides the parent of the run and template directories (default: see {@link #base()}). */
    static final String BASE_DIR_PROPERTY = "ha.testkit.dir";

    private static final Logger log = LoggerFactory.getLogger(RunDirectory.class);
    private static final String PREFIX = "ha-testkit-run-";
    private static final String OWNER_FILE = "owner";
    private static final Path SHARED_MEMORY = Path.of("/dev/shm");
    private static final long MIN_TMPFS_FREE_BYTES = 4L << 30;
    private static Path chosenBase; // guarded by RunDirectory.class

    private final Path root;
    private final AtomicInteger topologies = new AtomicInteger();

    private RunDirectory(Path root) {
        this.root = root;
    }

    /**
     * Parent of run directories and templates, chosen once per JVM: {@value #BASE_DIR_PROPERTY} if
     * set, else {@code /dev/shm} when it is a tmpfs with at least 4 GiB free, else {@code /tmp}.
     * Memory, because each server starts as a 25 MB copy of the template and writes WAL: on a disk
     * shared with busy builds, writeback throttling made a copy take 2 s instead of 0.3 s. Never
     * java.io.tmpdir, which the server user may not be able to traverse.
     */
    static synchronized Path base() {
        if (chosenBase == null) {
            String configured = System.getProperty(BASE_DIR_PROPERTY);
            if (configured != null && !configured.isBlank()) {
                chosenBase = Path.of(configured).toAbsolutePath();
            } else {
                chosenBase = isRoomyTmpfs(SHARED_MEMORY) ? SHARED_MEMORY : Path.of("/tmp");
            }
            log.debug("PostgreSQL data directories go under {}", chosenBase);
        }
        return chosenBase;
    }

    private static boolean isRoomyTmpfs(Path dir) {
        try {
            FileStore store = Files.getFileStore(dir);
            return Files.isDirectory(dir) && Files.isWritable(dir) && "tmpfs".equals(store.type())
                    && store.getUsableSpace() >= MIN_TMPFS_FREE_BYTES;
        } catch (IOException e) {
            return false;
        }
    }

    static RunDirectory create() {
        Path base = base();
        try {
            Files.createDirectories(base);
            sweepStale(base);
            if (!base.equals(Path.of("/tmp"))) {
                sweepStale(Path.of("/tmp")); // left by runs that used the other default
            }
            ProcessHandle self = ProcessHandle.current();
            Path root = Files.createTempDirectory(base, PREFIX + self.pid() + "-");
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.writeString(root.resolve(OWNER_FILE), self.pid() + " " + startMillis(self).orElse(0L) + "\n",
                    StandardCharsets.UTF_8);
            return new RunDirectory(root);
        } catch (IOException e) {
            throw new PostgresTestkitException("Cannot create a run directory under " + base + ": " + e, e);
        }
    }

    Path root() {
        return root;
    }

    /** A new, empty directory for one topology, traversable by the server user. */
    Path newTopologyDirectory() {
        try {
            Path dir = Files.createDirectory(root.resolve("topology" + topologies.incrementAndGet()));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        } catch (IOException e) {
            throw new PostgresTestkitException("Cannot create a topology directory under " + root + ": " + e, e);
        }
    }

    void delete() {
        try {
            Files2.deleteRecursively(root);
        } catch (IOException e) {
            log.warn("Cannot delete {}: {}", root, e.toString());
        }
    }

    /** Deletes run directories of JVMs that are gone, stopping postmasters still running in them. */
    static void sweepStale(Path base) {
        try (DirectoryStream<Path> runs = Files.newDirectoryStream(base, PREFIX + "*")) {
            for (Path run : runs) {
                if (isStale(run)) {
                    stopLeftoverPostmasters(run);
                    log.info("Deleting {} left by a JVM that is gone", run);
                    Files2.deleteRecursively(run);
                }
            }
        } catch (IOException e) {
            log.warn("Cannot sweep stale testkit directories in {}: {}", base, e.toString());
        }
    }

    private static boolean isStale(Path run) {
        try {
            String[] owner = Files.readString(run.resolve(OWNER_FILE), StandardCharsets.UTF_8).trim().split(" ");
            long pid = Long.parseLong(owner[0]);
            long started = Long.parseLong(owner[1]);
            Optional<ProcessHandle> process = ProcessHandle.of(pid);
            if (process.isEmpty() || !process.get().isAlive()) {
                return true;
            }
            // Same pid, different start time: the pid was reused by another process.
            Optional<Long> actual = startMillis(process.get());
            return started != 0 && actual.isPresent() && actual.get() != started;
        } catch (IOException | RuntimeException e) {
            return false; // being created right now, or not ours to judge
        }
    }

    /** SIGQUIT (immediate shutdown) to every live postmaster whose data directory is under {@code run}. */
    private static void stopLeftoverPostmasters(Path run) throws IOException {
        List<Path> pidFiles;
        try (var walk = Files.find(run, 4, (path, attrs) -> path.getFileName().toString().equals("postmaster.pid"))) {
            pidFiles = walk.toList();
        }
        for (Path pidFile : pidFiles) {
            Postmasters.pidOf(pidFile.getParent()).ifPresent(pid -> {
                log.warn("Stopping postmaster {} left running in {}", pid, pidFile.getParent());
                Postmasters.signal(pid, "QUIT");
                Postmasters.awaitExit(pid, 15_000);
            });
        }
    }

    private static Optional<Long> startMillis(ProcessHandle process) {
        return process.info().startInstant().map(Instant::toEpochMilli);
    }
}
