package io.hacluster.testkit;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * What every {@link PostgresServer} implementation shares: the application database, user and
 * password, the URLs built from {@link #host()} and {@link #port()}, logins, and the standby
 * state its topology changes on promote and follow. Subclasses say where the server is and how
 * it starts and stops.
 *
 * @param <S> the concrete server type, so that {@link #upstream()} is one of the same topology
 */
abstract class AbstractPostgresServer<S extends AbstractPostgresServer<S>> implements PostgresServer {

    private final String name;
    private final String appPassword;
    /** The server this one streams from while it is a standby; null for the original primary. */
    private volatile S upstream;
    private volatile boolean standby;

    AbstractPostgresServer(String name, String appPassword, S upstream, boolean standby) {
        this.name = name;
        this.appPassword = appPassword;
        this.upstream = upstream;
        this.standby = standby;
    }

    /** The superuser's password, for {@link #connectAsSuperuser()}. */
    abstract String superuserPassword();

    final S upstream() {
        return upstream;
    }

    final void following(S newUpstream) {
        upstream = newUpstream;
    }

    final void promoted() {
        standby = false;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String database() {
        return PostgresTemplate.APP_DATABASE;
    }

    @Override
    public final String user() {
        return PostgresTemplate.APP_USER;
    }

    @Override
    public final String password() {
        return appPassword;
    }

    @Override
    public final String jdbcUrl() {
        return Jdbc.url(host(), port(), database());
    }

    @Override
    public final String dsn() {
        return "postgres://" + user() + ":" + appPassword + "@" + host() + ":" + port() + "/" + database()
                + "?sslmode=disable&connect_timeout=10";
    }

    @Override
    public final Connection connect() throws SQLException {
        return Jdbc.connect(jdbcUrl(), user(), appPassword);
    }

    @Override
    public final Connection connectAsSuperuser() throws SQLException {
        return Jdbc.connect(jdbcUrl(), PostgresTemplate.SUPERUSER, superuserPassword());
    }

    @Override
    public final boolean isStandby() {
        return standby;
    }
}
