package io.hacluster.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link PostgresTopology}: servers from the Maven-provided binaries, each a copy of
 * this JVM's template data directory, on 127.0.0.1.
 *
 * <p>Replicas are cold copies of the same template as the primary, with {@code standby.signal}, a
 * {@code primary_conninfo} and a physical replication slot on the primary. The slot keeps the WAL
 * a stopped or killed replica has not received, so it catches up when started again.
 */
final class EmbeddedPostgresTopology extends AbstractPostgresTopology<EmbeddedPostgresServer> {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresTopology.class);
    private static final Duration SETUP_REPLAY_TIMEOUT = Duration.ofSeconds(60);

    private final EmbeddedRuntime runtime;
    private final Path directory;

    private EmbeddedPostgresTopology(EmbeddedRuntime runtime, Path directory) {
        this.runtime = runtime;
        this.directory = directory;
    }

    static EmbeddedPostgresTopology start(int replicas) {
        if (replicas < 0) {
            throw new IllegalArgumentException("replicas must be 0 or more: " + replicas);
        }
        long started = System.nanoTime();
        EmbeddedRuntime runtime = EmbeddedRuntime.get();
        EmbeddedPostgresTopology topology = new EmbeddedPostgresTopology(runtime, runtime.run().newTopologyDirectory());
        runtime.opened(topology);
        try {
            topology.build(replicas);
        } catch (RuntimeException | Error e) {
            try {
                topology.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        log.info("PostgreSQL primary + {} replicas up in {} ms under {}", replicas,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), topology.directory);
        return topology;
    }

    private void build(int replicas) {
        String appPassword = Secrets.password();
        EmbeddedPostgresServer first = new EmbeddedPostgresServer("primary", runtime, directory.resolve("primary"),
                appPassword, null);
        add(first);
        primaryIs(first);
        first.create();
        List<EmbeddedPostgresServer> standbys = new ArrayList<>();
        for (int i = 1; i <= replicas; i++) {
            String name = "replica" + i;
            standbys.add(new EmbeddedPostgresServer(name, runtime, directory.resolve(name), appPassword, first));
        }
        try (Connection connection = first.connectAsSuperuser(); Statement statement = connection.createStatement()) {
            statement.execute("ALTER ROLE " + PostgresTemplate.APP_USER + " PASSWORD '" + appPassword + "'");
        } catch (SQLException e) {
            throw new PostgresTestkitException("Cannot prepare the primary: " + e, e);
        }
        for (EmbeddedPostgresServer standby : standbys) {
            ReplicationSql.createSlot(first, standby.slotName());
        }
        for (EmbeddedPostgresServer standby : standbys) {
            add(standby);
            standby.create();
        }
        for (EmbeddedPostgresServer standby : standbys) {
            // Also makes sure the role's new password reached every standby before tests log in there.
            awaitReplay(standby, SETUP_REPLAY_TIMEOUT);
        }
    }

    @Override
    public void promote(PostgresServer replica) {
        EmbeddedPostgresServer server = promoteStandby(replica);
        log.info("Promoted {} to primary", server.name());
    }

    @Override
    public void follow(PostgresServer replica, PostgresServer upstream, Duration timeout) {
        EmbeddedPostgresServer server = standbyOf(replica);
        EmbeddedPostgresServer source = followable(server, upstream);
        ReplicationSql.follow(server, source, server.primaryConninfo(source), server.slotName(), "127.0.0.1",
                source.port(), timeout);
        server.following(source);
        log.info("{} now streams from {}", server.name(), source.name());
    }

    /** Postmaster pids of the servers that are running (for leak checks in tests). */
    List<Long> postmasterPids() {
        List<Long> pids = new ArrayList<>();
        for (EmbeddedPostgresServer server : members()) {
            server.postmasterPid().ifPresent(pids::add);
        }
        return pids;
    }

    Path directory() {
        return directory;
    }

    @Override
    public void close() {
        Optional<List<EmbeddedPostgresServer>> members = markClosed();
        if (members.isEmpty()) {
            return;
        }
        List<EmbeddedPostgresServer> toStop = members.get();
        RuntimeException failure = null;
        // Standbys first: a primary going away first would only make them log reconnect errors.
        for (int i = toStop.size() - 1; i >= 0; i--) {
            try {
                toStop.get(i).kill();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        runtime.closed(this);
        try {
            Files2.deleteRecursively(directory);
        } catch (IOException e) {
            log.warn("Cannot delete {}: {}", directory, e.toString());
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "EmbeddedPostgresTopology" + servers();
    }
}
