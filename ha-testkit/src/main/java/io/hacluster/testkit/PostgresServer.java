package io.hacluster.testkit;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * One PostgreSQL server of a {@link PostgresTopology}: the primary or a streaming hot standby,
 * listening on 127.0.0.1.
 *
 * <p>Every server of a topology has the same application role ({@link #user()}, a random
 * {@link #password()}) and database ({@link #database()}); the role is not a superuser. The
 * password never appears in {@link #toString()}.
 *
 * <p>{@link #stop()}, {@link #kill()} and {@link #start()} keep the port and the data directory,
 * so a restarted server is the same server: a restarted replica resumes streaming from where it
 * was (its replication slot on the primary keeps the WAL it missed).
 */
public interface PostgresServer {

    /** Stable name inside the topology: {@code primary}, {@code replica1}, {@code replica2}... */
    String name();

    /** Always {@code 127.0.0.1} for the embedded topology; the mapped host for Testcontainers. */
    String host();

    /** TCP port, chosen free when the topology started and kept across stop/start. */
    int port();

    /** Name of the application database. */
    String database();

    /** Name of the application role (not a superuser; owns {@link #database()}). */
    String user();

    /** Password of the application role: random per topology. A secret: never log it. */
    String password();

    /**
     * JDBC URL for the application database, without credentials:
     * {@code jdbc:postgresql://127.0.0.1:PORT/DB?sslmode=disable&connectTimeout=10}.
     */
    String jdbcUrl();

    /**
     * Mattermost-style data source, with the password inside:
     * {@code postgres://USER:PASSWORD@127.0.0.1:PORT/DB?sslmode=disable&connect_timeout=10}.
     * A secret: never log it.
     */
    String dsn();

    /** A new connection to {@link #database()} as the application role. The caller closes it. */
    Connection connect() throws SQLException;

    /** A new connection to {@link #database()} as a superuser, for test setup. The caller closes it. */
    Connection connectAsSuperuser() throws SQLException;

    /**
     * Fast shutdown: clients are disconnected, a shutdown checkpoint is written, the call returns
     * once the postmaster has exited. Does nothing if the server is not running.
     */
    void stop();

    /**
     * Immediate shutdown, as after a crash: no checkpoint, the next start runs crash recovery.
     * Returns once the postmaster has exited. Does nothing if the server is not running.
     */
    void kill();

    /**
     * Starts a stopped or killed server on the same port and data directory and returns once it
     * accepts connections (a replica: once it accepts read-only connections). Does nothing if it
     * is running.
     */
    void start();

    /** Whether the server's postmaster is running. */
    boolean isRunning();

    /**
     * Stalls the running server as a whole, as a machine that hangs or a process that is
     * descheduled: every process of it (the postmaster and all its children, backends included)
     * is stopped ({@code SIGSTOP}; for a container, {@code docker pause}). Sockets stay open:
     * connections and new connection attempts hang instead of failing, and nothing of the
     * server's state changes. Returns once every process is stopped. Undo with {@link #resume()};
     * {@link #stop()}, {@link #kill()} and closing the topology resume a paused server first.
     *
     * @throws IllegalStateException if the server is not running
     */
    void pause();

    /**
     * Lets a {@link #pause() paused} server run on ({@code SIGCONT}; for a container,
     * {@code docker unpause}). Does nothing if it is not paused.
     */
    void resume();

    /** Whether the server is {@link #pause() paused}. */
    boolean isPaused();

    /** Whether the server is (still) a standby: it is a replica and has not been promoted. */
    boolean isStandby();
}
