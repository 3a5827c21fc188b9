package io.hacluster.testkit;

import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * {@link PostgresTopology} on Docker through Testcontainers, chosen with
 * {@code -Dha.testkit.postgres=testcontainers}. The primary is the official image; each replica
 * is the same image whose entrypoint first runs {@code pg_basebackup -R} against the primary
 * (over a private Docker network, with a replication slot), then execs {@code postgres}.
 *
 * <p>Untested on the machines this project is built on (no Docker engine there): it compiles
 * against Testcontainers and follows its documented API. Testcontainers' reaper container removes
 * the containers when the JVM dies.
 */
final class TestcontainersPostgresTopology extends AbstractPostgresTopology<TestcontainersPostgresServer> {

    /** Overrides the Docker image (default {@value #DEFAULT_IMAGE}). */
    static final String IMAGE_PROPERTY = "ha.testkit.image";
    static final String DEFAULT_IMAGE = "postgres:17-alpine";

    private static final Logger log = LoggerFactory.getLogger(TestcontainersPostgresTopology.class);
    private static final String PRIMARY_ALIAS = "primary";
    private static final String SERVER_ARGS = String.join(" ",
            // listen_addresses = '*' comes with the official image.
            "-c max_connections=" + PostgresTemplate.MAX_CONNECTIONS,
            "-c shared_buffers=32MB",
            "-c fsync=off",
            "-c full_page_writes=off",
            "-c wal_level=replica",
            "-c max_wal_senders=16",
            "-c max_replication_slots=16",
            "-c wal_keep_size=256MB",
            "-c hot_standby=on",
            "-c hot_standby_feedback=on",
            "-c wal_receiver_status_interval=1s",
            "-c wal_retrieve_retry_interval=200ms");

    private final Network network;
    private final String superuserPassword;

    private TestcontainersPostgresTopology(Network network) {
        this.network = network;
        this.superuserPassword = Secrets.password();
    }

    /** Called by reflection from {@link PostgresTopology#start(int)}. */
    static PostgresTopology start(int replicas) {
        if (replicas < 0) {
            throw new IllegalArgumentException("replicas must be 0 or more: " + replicas);
        }
        TestcontainersPostgresTopology topology = new TestcontainersPostgresTopology(Network.newNetwork());
        try {
            topology.build(replicas);
        } catch (RuntimeException | Error e) {
            topology.close();
            throw e;
        }
        return topology;
    }

    @SuppressWarnings("resource") // closed by close()
    private void build(int replicas) {
        DockerImageName image = DockerImageName.parse(System.getProperty(IMAGE_PROPERTY, DEFAULT_IMAGE));
        String appPassword = Secrets.password();

        int primaryPort = FreePorts.pick();
        String initSql = "CREATE ROLE " + PostgresTemplate.APP_USER + " LOGIN PASSWORD '" + appPassword + "';\n"
                + "GRANT pg_monitor TO " + PostgresTemplate.APP_USER + ";\n"
                + "CREATE DATABASE " + PostgresTemplate.APP_DATABASE + " OWNER " + PostgresTemplate.APP_USER + ";\n";
        String hba = "#!/bin/sh\necho 'host replication all all scram-sha-256' >> \"$PGDATA/pg_hba.conf\"\n";
        GenericContainer<?> primaryContainer = new GenericContainer<>(image)
                .withNetwork(network)
                .withNetworkAliases(PRIMARY_ALIAS)
                .withEnv("POSTGRES_PASSWORD", superuserPassword)
                .withCopyToContainer(Transferable.of(initSql), "/docker-entrypoint-initdb.d/10-ha-testkit.sql")
                .withCopyToContainer(Transferable.of(hba, 0755), "/docker-entrypoint-initdb.d/20-ha-testkit-hba.sh")
                .withCommand("postgres " + SERVER_ARGS)
                .withExposedPorts(5432)
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPortBindings(
                        new PortBinding(Ports.Binding.bindPort(primaryPort), ExposedPort.tcp(5432))))
                // The official image starts twice: once for the init scripts, then for real.
                .waitingFor(Wait.forLogMessage(".*database system is ready to accept connections.*", 2)
                        .withStartupTimeout(Duration.ofMinutes(3)));
        TestcontainersPostgresServer first = new TestcontainersPostgresServer("primary", primaryContainer, primaryPort,
                appPassword, superuserPassword, false);
        add(first);
        primaryContainer.start();
        primaryIs(first);

        for (int i = 1; i <= replicas; i++) {
            String name = "replica" + i;
            ReplicationSql.createSlot(first, name);
            int port = FreePorts.pick();
            String entrypoint = "set -e\n"
                    + "if [ ! -s \"$PGDATA/PG_VERSION\" ]; then\n"
                    + "  until pg_basebackup -d 'host=" + PRIMARY_ALIAS + " port=5432 user=postgres application_name="
                    + name + "' -D \"$PGDATA\" -X stream -R -S " + name + "; do sleep 1; rm -rf \"$PGDATA\"/*; done\n"
                    + "  chmod 0700 \"$PGDATA\"\n"
                    + "fi\n"
                    + "exec postgres " + SERVER_ARGS + "\n";
            GenericContainer<?> container = new GenericContainer<>(image)
                    .withNetwork(network)
                    .withNetworkAliases(name)
                    .withEnv("PGPASSWORD", superuserPassword)
                    .withCreateContainerCmdModifier(cmd -> cmd
                            .withUser("postgres")
                            .withEntrypoint("sh", "-c", entrypoint)
                            .getHostConfig().withPortBindings(
                                    new PortBinding(Ports.Binding.bindPort(port), ExposedPort.tcp(5432))))
                    .withExposedPorts(5432)
                    .waitingFor(Wait.forLogMessage(".*database system is ready to accept read-only connections.*", 1)
                            .withStartupTimeout(Duration.ofMinutes(3)));
            TestcontainersPostgresServer replica = new TestcontainersPostgresServer(name, container, port, appPassword,
                    superuserPassword, true);
            replica.following(first);
            add(replica);
            container.start();
            ReplicationSql.awaitReplay(replica, first, Duration.ofSeconds(60));
        }
        log.info("PostgreSQL primary + {} replicas up in Docker ({})", replicas, image);
    }

    @Override
    public void promote(PostgresServer replica) {
        promoteStandby(replica);
    }

    @Override
    public void follow(PostgresServer replica, PostgresServer upstream, Duration timeout) {
        TestcontainersPostgresServer server = standbyOf(replica);
        TestcontainersPostgresServer source = followable(server, upstream);
        String conninfo = "host=" + source.name() + " port=5432 user=" + PostgresTemplate.SUPERUSER + " password="
                + superuserPassword + " application_name=" + server.name();
        ReplicationSql.follow(server, source, conninfo, server.name(), source.name(), 5432, timeout);
        server.following(source);
    }

    @Override
    public void close() {
        Optional<List<TestcontainersPostgresServer>> members = markClosed();
        if (members.isEmpty()) {
            return;
        }
        List<TestcontainersPostgresServer> toStop = members.get();
        for (int i = toStop.size() - 1; i >= 0; i--) {
            try {
                toStop.get(i).container().stop();
            } catch (RuntimeException e) {
                log.warn("Cannot stop container of {}: {}", toStop.get(i).name(), e.toString());
            }
        }
        network.close();
    }
}
