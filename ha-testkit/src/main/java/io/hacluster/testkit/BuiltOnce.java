package io.hacluster.testkit;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory that one JVM on this machine builds and every later one reuses. Several JVMs may
 * start at once (surefire forks, parallel modules), so the build runs under a file lock next to
 * the directory, into a staging sibling renamed into place only when complete: a reader never
 * sees a half-built tree, and leftovers of a JVM that died mid-build are removed.
 */
final class BuiltOnce {

    private static final Logger log = LoggerFactory.getLogger(BuiltOnce.class);

    /** Fills the staging directory, completion marker included. */
    @FunctionalInterface
    interface Builder {
        void build(Path staging) throws IOException;
    }

    private BuiltOnce() {}

    /**
     * Makes sure {@code home} is complete, building it if no JVM has.
     *
     * @param what names the directory in logs, e.g. "PostgreSQL template"
     * @param verb what building it does, for logs, e.g. "built"
     * @param stagingTag middle of the staging directory's name, e.g. "building"
     * @return true if this call built it, false if it was complete already
     */
    static boolean ensure(Path home, String what, String verb, String stagingTag, Predicate<Path> isComplete,
            Builder builder) throws IOException {
        if (isComplete.test(home)) {
            return false;
        }
        Path parent = home.getParent();
        Files.createDirectories(parent);
        Path lockFile = parent.resolve(home.getFileName() + ".lock");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = channel.lock()) {
            if (isComplete.test(home)) {
                log.debug("Another JVM {} {} while this one waited for {}", verb, home, lock);
                return false;
            }
            if (Files.exists(home)) {
                log.warn("Removing incomplete {} {}", what, home);
                Files2.deleteRecursively(home);
            }
            String stagingPrefix = home.getFileName() + "." + stagingTag + "-";
            Files2.deleteAbandoned(parent, stagingPrefix);
            Path staging = Files.createTempDirectory(parent, stagingPrefix);
            try {
                builder.build(staging);
                Files.move(staging, home, StandardCopyOption.ATOMIC_MOVE);
                return true;
            } finally {
                if (Files.exists(staging)) {
                    Files2.deleteRecursively(staging);
                }
            }
        }
    }
}
