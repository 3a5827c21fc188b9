package io.hacluster.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the JDBC pieces for one server: its HikariCP pool and the plain data source health checks use. */
final class ServerConnections {

    private static final Logger log = LoggerFactory.getLogger(ServerConnections.class);

    /** HikariCP refuses shorter values and silently replaces them with its defaults; we clamp instead. */
    static final long HIKARI_MIN_LIFETIME_MILLIS = 30_000;
    static final long HIKARI_MIN_IDLE_TIMEOUT_MILLIS = 10_000;
    private static final long HIKARI_DEFAULT_KEEPALIVE_MILLIS = 120_000;
    /**
     * How much longer than the query timeout a client read may wait for the server's answer: the
     * server's own cancel arrives at the query timeout, so a little slack for a loaded host is
     * enough. A stalled server is cut much sooner anyway: when the monitor marks it down, its
     * connections are aborted.
     */
    static final int SOCKET_TIMEOUT_GRACE_SECONDS = 2;

    private ServerConnections() {
    }

    /** The name of a server's pool, also the prefix of HikariCP's thread names for it. */
    static String poolName(RouterSettings settings, ServerTier tier, Dsn dsn) {
        return "ha-" + settings.name() + "-db-" + tier.shortName() + "[" + dsn.label() + "]";
    }

    /**
     * A pool for application connections: statement timeout set at connection start (see
     * {@link #pgDataSource}), role checked when a connection is opened, errors reported to
     * {@code exceptionOverride}.
     */
    static HikariDataSource pool(RouterSettings settings, ServerTier tier, Dsn dsn,
                                 SQLExceptionOverride exceptionOverride, OpenedConnections opened) {
        long statementTimeoutMillis = settings.queryTimeoutSeconds() * 1000L;
        PGSimpleDataSource pg = pgDataSource(settings, dsn, statementTimeoutMillis,
                secondsCeil(settings.connectionTimeoutMillis()), socketTimeoutSeconds(settings));
        HikariConfig config = new HikariConfig();
        config.setPoolName(poolName(settings, tier, dsn));
        config.setDataSource(new RoleCheckingDataSource(pg, tier, dsn.label(),
                tier == ServerTier.MASTER ? null : opened));
        config.setMaximumPoolSize(settings.maxOpenConns());
        int minimumIdle = Math.min(settings.maxIdleConns(), settings.maxOpenConns());
        config.setMinimumIdle(minimumIdle);
        long lifetime = clamp("ConnMaxLifetimeMilliseconds", settings.connMaxLifetimeMillis(),
                HIKARI_MIN_LIFETIME_MILLIS);
        config.setMaxLifetime(lifetime);
        // Only connections above minimumIdle ever idle out; HikariCP warns if a fixed-size pool has one.
        config.setIdleTimeout(minimumIdle < settings.maxOpenConns()
                ? clamp("ConnMaxIdleTimeMilliseconds", settings.connMaxIdleTimeMillis(), HIKARI_MIN_IDLE_TIMEOUT_MILLIS)
                : 0);
        // keepalive must stay below maxLifetime or HikariCP disables it with a warning of its own.
        config.setKeepaliveTime(lifetime == 0 || lifetime > HIKARI_DEFAULT_KEEPALIVE_MILLIS
                ? HIKARI_DEFAULT_KEEPALIVE_MILLIS : 0);
        config.setConnectionTimeout(settings.connectionTimeoutMillis());
        config.setValidationTimeout(Math.max(250, Math.min(settings.healthCheckTimeoutMillis(),
                settings.connectionTimeoutMillis() - 1)));
        // The router reports unreachable servers itself (master: at start; replicas: the monitor).
        config.setInitializationFailTimeout(-1);
        config.setExceptionOverride(exceptionOverride);
        if (settings.poolMetrics() != null) {
            config.setMetricsTrackerFactory(settings.poolMetrics());
        }
        return new HikariDataSource(config);
    }

    /**
     * The client socket timeout of pooled connections, 0 for none: the query timeout plus
     * {@value #SOCKET_TIMEOUT_GRACE_SECONDS} s (32 s with the defaults). The server cancels a
     * statement at the query timeout; a client read that waits longer means the server or the
     * network is gone (a blackholed host would otherwise hang the caller for the TCP
     * retransmission timeout, many minutes).
     */
    static int socketTimeoutSeconds(RouterSettings settings) {
        return settings.queryTimeoutSeconds() > 0 ? settings.queryTimeoutSeconds() + SOCKET_TIMEOUT_GRACE_SECONDS : 0;
    }

    /** A data source for health, lag and role checks: short connect, socket and statement timeouts. */
    static PGSimpleDataSource healthDataSource(RouterSettings settings, Dsn dsn) {
        int seconds = secondsCeil(settings.healthCheckTimeoutMillis());
        return pgDataSource(settings, dsn, settings.healthCheckTimeoutMillis(), seconds, seconds);
    }

    /**
     * The statement timeout travels in the startup packet ({@code options=-c statement_timeout=..}):
     * no extra round trip per connection or statement, and {@code RESET ALL} / {@code DISCARD ALL}
     * return to it rather than to the server default. (PgBouncer in transaction mode rejects
     * startup options unless configured with {@code ignore_startup_parameters = options}.)
     */
    static PGSimpleDataSource pgDataSource(RouterSettings settings, Dsn dsn, long statementTimeoutMillis,
                                           int connectTimeoutSeconds, int socketTimeoutSeconds) {
        PGSimpleDataSource pg = new PGSimpleDataSource();
        pg.setURL(dsn.jdbcUrl());
        if (!dsn.user().isEmpty()) {
            pg.setUser(dsn.user());
        }
        if (!dsn.password().isEmpty()) {
            pg.setPassword(dsn.password());
        }
        if (!dsn.params().containsKey("connect_timeout") && !dsn.params().containsKey("connectTimeout")) {
            pg.setConnectTimeout(connectTimeoutSeconds);
        }
        pg.setLoginTimeout(connectTimeoutSeconds);
        if (socketTimeoutSeconds > 0) {
            pg.setSocketTimeout(socketTimeoutSeconds);
        }
        pg.setTcpKeepAlive(true);
        if (!dsn.params().containsKey("application_name") && !dsn.params().containsKey("ApplicationName")) {
            pg.setApplicationName("ha-" + settings.name());
        }
        if (statementTimeoutMillis > 0) {
            String options = pg.getOptions();
            String timeout = "-c statement_timeout=" + statementTimeoutMillis;
            pg.setOptions(options == null || options.isBlank() ? timeout : options + " " + timeout);
        }
        return pg;
    }

    private static long clamp(String setting, long millis, long floor) {
        if (millis != 0 && millis < floor) {
            log.warn("{}={} is below HikariCP's minimum; using {} ms", setting, millis, floor);
            return floor;
        }
        return millis;
    }

    private static int secondsCeil(long millis) {
        return (int) Math.max(1, (millis + 999) / 1000);
    }
}
