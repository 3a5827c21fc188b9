package io.hacluster.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What every {@link PostgresTopology} implementation shares: its members (primary first), which
 * of them is the primary now, the checks that an argument is a member or a standby of this
 * topology, and the replay controls, which are plain SQL on the standby. Subclasses create,
 * rewire and remove the servers.
 *
 * @param <S> the concrete server type
 */
abstract class AbstractPostgresTopology<S extends AbstractPostgresServer<S>> implements PostgresTopology {

    private final List<S> servers = new ArrayList<>(); // guarded by this; primary first
    private volatile S primary;
    private boolean closed; // guarded by this

    /** Makes {@code server} a member; the first one added is the original primary. */
    final synchronized void add(S server) {
        servers.add(server);
    }

    final void primaryIs(S server) {
        primary = server;
    }

    @Override
    public final PostgresServer primary() {
        return primary;
    }

    @Override
    public final synchronized List<PostgresServer> replicas() {
        List<PostgresServer> standbys = new ArrayList<>();
        for (S server : servers) {
            if (server.isStandby()) {
                standbys.add(server);
            }
        }
        return List.copyOf(standbys);
    }

    @Override
    public final synchronized List<PostgresServer> servers() {
        return List.copyOf(servers);
    }

    /** Promotes the standby {@code replica} and makes it this topology's primary; returns it. */
    final S promoteStandby(PostgresServer replica) {
        S server = standbyOf(replica);
        ReplicationSql.promote(server);
        server.promoted();
        primary = server;
        return server;
    }

    /** The member {@code upstream} names, checked to be a primary that {@code standby} can stream from. */
    final S followable(S standby, PostgresServer upstream) {
        S source = memberOf(upstream);
        if (source == standby || source.isStandby()) {
            throw new IllegalArgumentException(source.name() + " is not a primary " + standby.name() + " can follow");
        }
        return source;
    }

    @Override
    public final void pauseReplay(PostgresServer replica) {
        ReplicationSql.pauseReplay(standbyOf(replica));
    }

    @Override
    public final void resumeReplay(PostgresServer replica) {
        ReplicationSql.resumeReplay(standbyOf(replica));
    }

    @Override
    public final void awaitReplay(PostgresServer replica, Duration timeout) {
        S server = standbyOf(replica);
        S upstream = server.upstream();
        if (!upstream.isRunning()) {
            throw new PostgresTestkitException("Cannot wait for replay on " + server.name() + ": its upstream "
                    + upstream.name() + " is not running");
        }
        if (!server.isRunning()) {
            throw new PostgresTestkitException("Cannot wait for replay on " + server.name() + ": it is not running");
        }
        ReplicationSql.awaitReplay(server, upstream, timeout);
    }

    final S standbyOf(PostgresServer replica) {
        S server = memberOf(replica);
        if (!server.isStandby()) {
            throw new IllegalArgumentException(server.name() + " is not a standby");
        }
        return server;
    }

    final synchronized S memberOf(PostgresServer candidate) {
        for (S server : servers) {
            if (server == candidate) {
                return server;
            }
        }
        throw new IllegalArgumentException(candidate + " is not a server of this topology");
    }

    /**
     * Marks this topology closed and returns its members to stop, primary first; empty if it was
     * closed already (close() is idempotent).
     */
    final synchronized Optional<List<S>> markClosed() {
        if (closed) {
            return Optional.empty();
        }
        closed = true;
        return Optional.of(new ArrayList<>(servers));
    }

    /** The members, primary first, for subclasses that walk them. */
    final synchronized List<S> members() {
        return new ArrayList<>(servers);
    }
}
