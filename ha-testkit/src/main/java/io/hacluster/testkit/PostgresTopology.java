package io.hacluster.testkit;

import java.time.Duration;
import java.util.List;

/**
 * A real PostgreSQL primary plus N streaming hot-standby replicas, for tests.
 *
 * <p>Start one with {@link #start(int)} (or the {@link PostgresTopologyTest} annotation) and close
 * it when done; closing stops every server and deletes its files. The implementation is chosen
 * by the system property {@value #IMPLEMENTATION_PROPERTY}: {@code embedded} (the default: server
 * binaries from Maven, run on 127.0.0.1 in temporary directories) or {@code testcontainers}
 * (Docker containers; needs {@code org.testcontainers:postgresql} on the test classpath).
 *
 * <p>When {@code start} returns, every replica streams from the primary and has replayed
 * everything the primary wrote during setup.
 *
 * <p>Roles: {@link #primary()} is the server that takes writes; it changes when
 * {@link #promote(PostgresServer)} promotes a replica. Replicas that were not promoted keep
 * following their upstream (the original primary) until {@link #follow} re-points them.
 */
public interface PostgresTopology extends AutoCloseable {

    /** System property choosing the implementation: {@code embedded} (default) or {@code testcontainers}. */
    String IMPLEMENTATION_PROPERTY = "ha.testkit.postgres";

    /**
     * Starts a primary and {@code replicas} streaming replicas with the implementation chosen by
     * {@value #IMPLEMENTATION_PROPERTY}.
     *
     * @param replicas number of hot standbys, 0 or more
     * @throws PostgresTestkitException if a server cannot be started
     */
    static PostgresTopology start(int replicas) {
        String implementation = System.getProperty(IMPLEMENTATION_PROPERTY, "embedded").trim();
        switch (implementation) {
            case "embedded":
            case "":
                return EmbeddedPostgresTopology.start(replicas);
            case "testcontainers":
                return TopologyImplementations.startTestcontainers(replicas);
            default:
                throw new PostgresTestkitException("Unknown " + IMPLEMENTATION_PROPERTY + "=" + implementation
                        + "; use 'embedded' (default) or 'testcontainers'");
        }
    }

    /** The server that currently takes writes. */
    PostgresServer primary();

    /** The servers that are still standbys, in creation order (promoted ones are left out). */
    List<PostgresServer> replicas();

    /** Every server of the topology, primary first, then replicas in creation order. */
    List<PostgresServer> servers();

    /**
     * Promotes a standby: it leaves recovery and accepts writes when this returns, and becomes
     * {@link #primary()}. The former primary is not touched: stop or kill it first to model a
     * failover, or keep it running to model a split brain.
     *
     * @throws IllegalArgumentException if the server is not a standby of this topology
     */
    void promote(PostgresServer replica);

    /**
     * Re-points a standby at another server, typically one just promoted, and returns once it
     * streams from it; the standby follows the new timeline. This works only if the standby has
     * not received WAL the new upstream never had: in a failover, promote the standby with the
     * highest {@code pg_last_wal_receive_lsn()} and re-point the others at it.
     *
     * @throws IllegalArgumentException if {@code replica} is not a standby or {@code upstream} is one
     * @throws PostgresTestkitException if it does not stream from {@code upstream} within {@code timeout}
     */
    void follow(PostgresServer replica, PostgresServer upstream, Duration timeout);

    /** Pauses WAL replay on a standby ({@code pg_wal_replay_pause()}); returns once it is paused. */
    void pauseReplay(PostgresServer replica);

    /** Resumes WAL replay on a standby ({@code pg_wal_replay_resume()}). */
    void resumeReplay(PostgresServer replica);

    /**
     * Waits until the standby has replayed the WAL its upstream (the server it streams from: the
     * original primary, or the one given to {@link #follow}) had written when this method was called.
     *
     * @throws PostgresTestkitException on timeout, naming the target and replayed LSNs, or if the
     *     standby or its upstream is not running
     */
    void awaitReplay(PostgresServer replica, Duration timeout);

    /** {@link #awaitReplay(PostgresServer, Duration)} for every running standby. */
    default void awaitReplay(Duration timeout) {
        for (PostgresServer replica : replicas()) {
            if (replica.isRunning()) {
                awaitReplay(replica, timeout);
            }
        }
    }

    /** Stops every server (immediate shutdown) and deletes the topology's files. Idempotent. */
    @Override
    void close();
}
