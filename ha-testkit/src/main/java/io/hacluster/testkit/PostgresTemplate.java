package io.hacluster.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A data directory made with {@code initdb}, configured for tests, holding the application role
 * and database; every server of every topology starts as a copy of it. Copying 25 MB is much
 * faster than {@code initdb}, and every copy shares the template's system identifier and WAL
 * history, which is what lets a copy stream from another copy as a standby.
 *
 * <p>Built once per machine (per binaries, settings and server user) under {@code /tmp} and
 * reused by later JVMs, like the binaries. Its superuser password sits next to it in an
 * owner-only file; the servers listen on 127.0.0.1 only and hold test data only.
 */
final class PostgresTemplate {

    static final String SUPERUSER = "postgres";
    /** Mattermost's default role and test database names, so DSNs look like the real ones. */
    static final String APP_USER = "mmuser";
    static final String APP_DATABASE = "mattermost_test";
    /** Included by postgresql.conf; rewritten per server (port, name, upstream). */
    static final String SERVER_CONF = "ha-testkit-server.conf";
    static final int MAX_CONNECTIONS = 300;

    /** Bump when the template's contents change in a way the hashed settings do not show. */
    private static final String FORMAT = "template-v2";
    private static final String PASSWORD_FILE = "superuser-password";
    private static final String COMPLETE_MARKER = ".ha-testkit-complete";

    private static final Logger log = LoggerFactory.getLogger(PostgresTemplate.class);

    /**
     * Tuned for tests on a small shared machine. Durability is off (fsync, full_page_writes): a test
     * cluster never survives a machine crash, and a killed postmaster loses nothing the OS already
     * has. synchronous_commit stays on: without fsync a commit's WAL flush costs one write(), and it
     * wakes the WAL senders at once, so replicas see a commit within milliseconds rather than after
     * the WAL writer's next round.
     */
    private static final String TEST_SETTINGS = String.join("\n",
            "",
            "# ---- ha-testkit settings ----",
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "max_connections = " + MAX_CONNECTIONS,
            "superuser_reserved_connections = 5",
            "shared_buffers = 32MB",
            "huge_pages = off",
            "max_worker_processes = 4",
            "max_parallel_workers_per_gather = 0",
            "dynamic_shared_memory_type = mmap",
            "fsync = off",
            "full_page_writes = off",
            "synchronous_commit = on",
            "jit = off",
            "wal_level = replica",
            "max_wal_senders = 16",
            "max_replication_slots = 16",
            // A standby that was down catches up from its slot; this is the margin when no slot is used.
            // Bounded, as data directories may live in memory (/dev/shm): WAL kept for slots stops at
            // 1 GB (a standby that misses more must be re-created), checkpoints come every 256 MB.
            "wal_keep_size = 128MB",
            "max_slot_wal_keep_size = 1GB",
            "max_wal_size = 256MB",
            // Few recycled segments kept around: they would be copied with every server.
            "min_wal_size = 4MB",
            "hot_standby = on",
            "hot_standby_feedback = on",
            "wal_receiver_status_interval = 1s",
            "wal_retrieve_retry_interval = 200ms",
            "wal_sender_timeout = 30s",
            "wal_receiver_timeout = 30s",
            "password_encryption = scram-sha-256",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
            "log_line_prefix = '%m [%p] %q%u@%d '",
            "log_min_messages = warning",
            "log_connections = off",
            "include_if_exists = '" + SERVER_CONF + "'",
            "");

    /** TCP only; every login needs a password, replication included. */
    private static final String HBA = String.join("\n",
            "# ha-testkit: TCP on 127.0.0.1 with SCRAM passwords; no Unix sockets are opened.",
            "host    all             all     127.0.0.1/32    scram-sha-256",
            "host    replication     all     127.0.0.1/32    scram-sha-256",
            "");

    private final Path dataDir;
    private final String superuserPassword;

    private PostgresTemplate(Path dataDir, String superuserPassword) {
        this.dataDir = dataDir;
        this.superuserPassword = superuserPassword;
    }

    /**
     * The template for these binaries, settings and server user: reused from an earlier JVM on
     * this machine when one built it (its directory name is a hash of everything that shapes it),
     * else built now under a file lock, in a staging directory renamed into place when complete.
     */
    static PostgresTemplate obtain(PostgresBinaries binaries, ServerUser user, Path base) {
        Path home = base.resolve("ha-testkit-template-" + key(binaries, user));
        try {
            BuiltOnce.ensure(home, "PostgreSQL template", "built", "building", PostgresTemplate::isComplete, staging -> {
                Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwxr-xr-x"));
                build(binaries, user, staging);
                Files.writeString(staging.resolve(COMPLETE_MARKER), "", StandardCharsets.UTF_8);
            });
            String password = Files.readString(home.resolve(PASSWORD_FILE), StandardCharsets.UTF_8).strip();
            return new PostgresTemplate(home.resolve("data"), password);
        } catch (IOException e) {
            throw new PostgresTestkitException("Cannot prepare the PostgreSQL template " + home + ": " + e, e);
        }
    }

    private static String key(PostgresBinaries binaries, ServerUser user) {
        String shape = String.join("\n", FORMAT, binaries.home().toString(), TEST_SETTINGS, HBA, APP_USER, APP_DATABASE,
                user.name(), System.getProperty("user.name"));
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(shape.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static boolean isComplete(Path home) {
        return Files.isRegularFile(home.resolve(COMPLETE_MARKER)) && Files.isRegularFile(home.resolve(PASSWORD_FILE));
    }

    private static void build(PostgresBinaries binaries, ServerUser user, Path dir) throws IOException {
        long started = System.nanoTime();
        Path dataDir = dir.resolve("data");
        Path passwordFile = dir.resolve(PASSWORD_FILE);
        String superuserPassword = Secrets.password();
        Files.writeString(passwordFile, superuserPassword + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
        user.own(dir);
        Commands.run(user.program(List.of(binaries.program("initdb").toString(),
                "-D", dataDir.toString(),
                "-U", SUPERUSER,
                "--pwfile=" + passwordFile,
                "--auth=scram-sha-256",
                "-E", "UTF8",
                "--no-locale",
                // 1 MB WAL segments instead of 16: each copy of the template is ~25 MB smaller.
                "--wal-segsize=1",
                "--no-sync",
                "--no-instructions")), 180);
        Files.writeString(dataDir.resolve("postgresql.conf"), TEST_SETTINGS, StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        Files.writeString(dataDir.resolve("pg_hba.conf"), HBA, StandardCharsets.UTF_8,
                StandardOpenOption.TRUNCATE_EXISTING);
        Files.writeString(dataDir.resolve(SERVER_CONF), "", StandardCharsets.UTF_8);
        user.own(dataDir.resolve(SERVER_CONF));
        PostgresTemplate template = new PostgresTemplate(dataDir, superuserPassword);
        template.createApplicationRoleAndDatabase(binaries, user, dir);
        log.info("Built PostgreSQL template in {} ms ({}), server user {}",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), dir, user.name());
    }

    /** Runs the template once to create what every topology needs, then stops it cleanly. */
    private void createApplicationRoleAndDatabase(PostgresBinaries binaries, ServerUser user, Path dir) {
        int port = FreePorts.pick();
        writeServerConf(dataDir, "port = " + port + "\ncluster_name = 'template'\n");
        SupervisedPostmaster postmaster = SupervisedPostmaster.launch("template", binaries, user, dataDir,
                dir.resolve("postgres.log"), Duration.ofSeconds(120));
        try (Connection connection = Jdbc.connect(Jdbc.url(port, "postgres"), SUPERUSER, superuserPassword);
                Statement statement = connection.createStatement()) {
            // The real password is set per topology (ALTER ROLE on its primary).
            statement.execute("CREATE ROLE " + APP_USER + " LOGIN PASSWORD '" + Secrets.password() + "'");
            // Read-only monitoring rights: lag queries over pg_stat_replication (the kind Mattermost's
            // ReplicaLagSettings run) see every column, not NULLs.
            statement.execute("GRANT pg_monitor TO " + APP_USER);
            // FILE_COPY: copies the files instead of writing the whole database into the WAL.
            statement.execute("CREATE DATABASE " + APP_DATABASE + " OWNER " + APP_USER + " STRATEGY FILE_COPY");
        } catch (SQLException e) {
            postmaster.stop(false, Duration.ofSeconds(30));
            throw new PostgresTestkitException("Cannot create the application role and database in the template: " + e, e);
        }
        // Fast shutdown: a clean shutdown checkpoint, so copies start without crash recovery.
        postmaster.stop(true, Duration.ofSeconds(60));
        writeServerConf(dataDir, "");
    }

    Path dataDir() {
        return dataDir;
    }

    String superuserPassword() {
        return superuserPassword;
    }

    /** Replaces the per-server settings file of a data directory (keeping its owner). */
    static void writeServerConf(Path dataDir, String content) {
        try {
            Files.writeString(dataDir.resolve(SERVER_CONF), content, StandardCharsets.UTF_8,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new PostgresTestkitException("Cannot write " + dataDir.resolve(SERVER_CONF) + ": " + e, e);
        }
    }
}
