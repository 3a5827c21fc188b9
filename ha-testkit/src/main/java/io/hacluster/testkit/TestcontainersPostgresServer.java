package io.hacluster.testkit;

import com.github.dockerjava.api.DockerClient;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.testcontainers.containers.GenericContainer;

/**
 * A server of a {@link TestcontainersPostgresTopology}: one container, published on a fixed
 * host port so that the port survives a stop and start. Stop, kill and start act on the container
 * through the Docker API, so its volume (the data directory) is kept.
 */
final class TestcontainersPostgresServer extends AbstractPostgresServer<TestcontainersPostgresServer> {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final GenericContainer<?> container;
    private final int hostPort;
    private final String superuserPassword;

    TestcontainersPostgresServer(String name, GenericContainer<?> container, int hostPort, String appPassword,
            String superuserPassword, boolean standby) {
        super(name, appPassword, null, standby);
        this.container = container;
        this.hostPort = hostPort;
        this.superuserPassword = superuserPassword;
    }

    GenericContainer<?> container() {
        return container;
    }

    @Override
    public String host() {
        return container.getHost();
    }

    @Override
    public int port() {
        return hostPort;
    }

    @Override
    String superuserPassword() {
        return superuserPassword;
    }

    private boolean paused; // guarded by this

    /** {@code docker pause}: the container's freezer cgroup stops every process in it at once. */
    @Override
    public synchronized void pause() {
        if (paused) {
            return;
        }
        if (!isRunning()) {
            throw new IllegalStateException(name() + " is not running");
        }
        docker().pauseContainerCmd(container.getContainerId()).exec();
        paused = true;
    }

    @Override
    public synchronized void resume() {
        if (paused) {
            docker().unpauseContainerCmd(container.getContainerId()).exec();
            paused = false;
        }
    }

    @Override
    public synchronized boolean isPaused() {
        return paused;
    }

    @Override
    public synchronized void stop() {
        resume();
        if (isRunning()) {
            // The image's STOPSIGNAL is SIGINT: a fast shutdown.
            docker().stopContainerCmd(container.getContainerId()).withTimeout(60).exec();
        }
    }

    @Override
    public synchronized void kill() {
        resume();
        if (isRunning()) {
            docker().killContainerCmd(container.getContainerId()).withSignal("SIGQUIT").exec();
            awaitStopped();
        }
    }

    @Override
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        docker().startContainerCmd(container.getContainerId()).exec();
        awaitAcceptingConnections();
    }

    @Override
    public boolean isRunning() {
        Boolean running = docker().inspectContainerCmd(container.getContainerId()).exec().getState().getRunning();
        return Boolean.TRUE.equals(running);
    }

    /** Polls until a superuser query works (the container's log wait strategy only applies to its first start). */
    void awaitAcceptingConnections() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!isRunning()) {
                throw new PostgresTestkitException(name() + " exited during startup. Last log lines:\n" + logTail());
            }
            try (Connection connection = connectAsSuperuser(); Statement statement = connection.createStatement()) {
                statement.execute("SELECT 1");
                return;
            } catch (SQLException e) {
                last = e;
            }
            sleep(100);
        }
        throw new PostgresTestkitException(name() + " did not accept connections within " + START_TIMEOUT + " (" + last
                + "). Last log lines:\n" + logTail());
    }

    private void awaitStopped() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (isRunning()) {
            if (System.nanoTime() > deadline) {
                throw new PostgresTestkitException(name() + " did not stop within " + START_TIMEOUT);
            }
            sleep(50);
        }
    }

    private String logTail() {
        String logs = container.getLogs();
        String[] lines = logs.split("\\R");
        return String.join("\n", java.util.Arrays.asList(lines).subList(Math.max(0, lines.length - 30), lines.length));
    }

    private DockerClient docker() {
        return container.getDockerClient();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PostgresTestkitException("Interrupted", e);
        }
    }

    @Override
    public String toString() {
        return "PostgresServer[" + name() + " container port " + hostPort + (isStandby() ? " standby" : " primary") + "]";
    }
}
