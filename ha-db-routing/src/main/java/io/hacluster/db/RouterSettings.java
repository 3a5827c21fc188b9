package io.hacluster.db;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything a {@link DatabaseRouter} needs, independent of any configuration format. ha-core maps
 * Mattermost's {@code SqlSettings} onto it field by field (names in brackets); defaults are
 * Mattermost's.
 *
 * <p>Validation happens in the compact constructor: a value that cannot work (negative sizes,
 * a zero monitor interval) is an {@link IllegalArgumentException}. HikariCP's own floors
 * (maxLifetime 30 s, idleTimeout 10 s) are applied when pools are built, with one warning.
 *
 * @param name short name used in pool and thread names ({@code ha-<name>-db-...}), e.g. the node id
 * @param master the write server [DataSource]
 * @param replicas read replicas [DataSourceReplicas]
 * @param searchReplicas search replicas [DataSourceSearchReplicas]
 * @param maxOpenConns pool size per server [MaxOpenConns], default 300
 * @param maxIdleConns idle connections kept per server [MaxIdleConns], default 20; capped at maxOpenConns
 * @param connMaxLifetimeMillis a connection's lifetime, 0 = unlimited [ConnMaxLifetimeMilliseconds], default 3600000
 * @param connMaxIdleTimeMillis how long an idle connection above maxIdleConns lives, 0 = forever
 *     [ConnMaxIdleTimeMilliseconds], default 300000
 * @param queryTimeoutSeconds server-side statement timeout on every connection, 0 = none [QueryTimeout], default 30;
 *     pooled connections also get a client socket timeout 10 s longer, so a vanished server cannot
 *     hang a caller (a session that sets {@code statement_timeout = 0} for a longer job is cut there too)
 * @param monitorIntervalSeconds replica health and lag check period [ReplicaMonitorIntervalSeconds], default 5
 * @param maxLagBytes a replica further behind than this many WAL bytes leaves rotation, 0 = no limit
 *     [ReplicaMaxLagBytes], default 16 MiB
 * @param maxLagMillis a replica whose replay is older than this leaves rotation, 0 = no limit
 *     [ReplicaMaxLagMilliseconds], default 10000
 * @param connectionTimeoutMillis longest wait to borrow a connection (HikariCP connectionTimeout, at least 250)
 *     and to open one, default 10000
 * @param healthCheckTimeoutMillis bound on one health/lag/role check (connect and query), default 2000
 * @param drainTimeoutMillis after {@link DatabaseRouter#reload}, how long old pools wait for borrowed
 *     connections to come back before they are closed anyway, default 30000
 * @param poolMetrics HikariCP's own metrics for every pool (its {@code MetricsTrackerFactory}, e.g.
 *     {@code new com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory(registry)},
 *     which needs micrometer-core on the class path; ha-db-routing itself does not), or null for
 *     none (the default). Not configuration: code sets it; {@link #toBuilder()} keeps it.
 */
public record RouterSettings(String name, Dsn master, List<Dsn> replicas, List<Dsn> searchReplicas,
                             int maxOpenConns, int maxIdleConns, long connMaxLifetimeMillis,
                             long connMaxIdleTimeMillis, int queryTimeoutSeconds, int monitorIntervalSeconds,
                             long maxLagBytes, long maxLagMillis, long connectionTimeoutMillis,
                             long healthCheckTimeoutMillis, long drainTimeoutMillis,
                             com.zaxxer.hikari.metrics.MetricsTrackerFactory poolMetrics) {

    public RouterSettings {
        Objects.requireNonNull(master, "master DSN is required");
        name = name == null || name.isBlank() ? "node" : name.strip();
        replicas = List.copyOf(replicas == null ? List.of() : replicas);
        searchReplicas = List.copyOf(searchReplicas == null ? List.of() : searchReplicas);
        requireAtLeast("maxOpenConns", maxOpenConns, 1);
        requireAtLeast("maxIdleConns", maxIdleConns, 0);
        requireAtLeast("connMaxLifetimeMillis", connMaxLifetimeMillis, 0);
        requireAtLeast("connMaxIdleTimeMillis", connMaxIdleTimeMillis, 0);
        requireAtLeast("queryTimeoutSeconds", queryTimeoutSeconds, 0);
        requireAtLeast("monitorIntervalSeconds", monitorIntervalSeconds, 1);
        requireAtLeast("maxLagBytes", maxLagBytes, 0);
        requireAtLeast("maxLagMillis", maxLagMillis, 0);
        requireAtLeast("connectionTimeoutMillis", connectionTimeoutMillis, 250);
        requireAtLeast("healthCheckTimeoutMillis", healthCheckTimeoutMillis, 100);
        requireAtLeast("drainTimeoutMillis", drainTimeoutMillis, 0);
    }

    private static void requireAtLeast(String field, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(field + " must be at least " + min + ", was " + value);
        }
    }

    /** A builder with Mattermost's defaults; only the master is required. */
    public static Builder builder(Dsn master) {
        return new Builder(master);
    }

    /** A builder pre-filled with these settings, to change a few fields for {@link DatabaseRouter#reload}. */
    public Builder toBuilder() {
        Builder b = new Builder(master);
        b.name = name;
        b.replicas.addAll(replicas);
        b.searchReplicas.addAll(searchReplicas);
        b.maxOpenConns = maxOpenConns;
        b.maxIdleConns = maxIdleConns;
        b.connMaxLifetimeMillis = connMaxLifetimeMillis;
        b.connMaxIdleTimeMillis = connMaxIdleTimeMillis;
        b.queryTimeoutSeconds = queryTimeoutSeconds;
        b.monitorIntervalSeconds = monitorIntervalSeconds;
        b.maxLagBytes = maxLagBytes;
        b.maxLagMillis = maxLagMillis;
        b.connectionTimeoutMillis = connectionTimeoutMillis;
        b.healthCheckTimeoutMillis = healthCheckTimeoutMillis;
        b.drainTimeoutMillis = drainTimeoutMillis;
        b.poolMetrics = poolMetrics;
        return b;
    }

    /** The settings with every password masked. */
    @Override
    public String toString() {
        return "RouterSettings[name=" + name + ", master=" + master + ", replicas=" + replicas
                + ", searchReplicas=" + searchReplicas + ", maxOpenConns=" + maxOpenConns
                + ", maxIdleConns=" + maxIdleConns + ", connMaxLifetimeMillis=" + connMaxLifetimeMillis
                + ", connMaxIdleTimeMillis=" + connMaxIdleTimeMillis + ", queryTimeoutSeconds=" + queryTimeoutSeconds
                + ", monitorIntervalSeconds=" + monitorIntervalSeconds + ", maxLagBytes=" + maxLagBytes
                + ", maxLagMillis=" + maxLagMillis + ", connectionTimeoutMillis=" + connectionTimeoutMillis
                + ", healthCheckTimeoutMillis=" + healthCheckTimeoutMillis
                + ", drainTimeoutMillis=" + drainTimeoutMillis
                + (poolMetrics == null ? "" : ", poolMetrics=" + poolMetrics.getClass().getSimpleName()) + "]";
    }

    /** Mutable builder for {@link RouterSettings}. */
    public static final class Builder {
        private Dsn master;
        private String name = "node";
        private final List<Dsn> replicas = new ArrayList<>();
        private final List<Dsn> searchReplicas = new ArrayList<>();
        private int maxOpenConns = 300;
        private int maxIdleConns = 20;
        private long connMaxLifetimeMillis = 3_600_000;
        private long connMaxIdleTimeMillis = 300_000;
        private int queryTimeoutSeconds = 30;
        private int monitorIntervalSeconds = 5;
        private long maxLagBytes = 16L * 1024 * 1024;
        private long maxLagMillis = 10_000;
        private long connectionTimeoutMillis = 10_000;
        private long healthCheckTimeoutMillis = 2_000;
        private long drainTimeoutMillis = 30_000;
        private com.zaxxer.hikari.metrics.MetricsTrackerFactory poolMetrics;

        private Builder(Dsn master) {
            this.master = master;
        }

        public Builder master(Dsn value) {
            master = value;
            return this;
        }

        public Builder name(String value) {
            name = value;
            return this;
        }

        /** Replaces the replica list. */
        public Builder replicas(List<Dsn> value) {
            replicas.clear();
            replicas.addAll(value);
            return this;
        }

        public Builder addReplica(Dsn value) {
            replicas.add(value);
            return this;
        }

        /** Replaces the search replica list. */
        public Builder searchReplicas(List<Dsn> value) {
            searchReplicas.clear();
            searchReplicas.addAll(value);
            return this;
        }

        public Builder addSearchReplica(Dsn value) {
            searchReplicas.add(value);
            return this;
        }

        public Builder maxOpenConns(int value) {
            maxOpenConns = value;
            return this;
        }

        public Builder maxIdleConns(int value) {
            maxIdleConns = value;
            return this;
        }

        public Builder connMaxLifetimeMillis(long value) {
            connMaxLifetimeMillis = value;
            return this;
        }

        public Builder connMaxIdleTimeMillis(long value) {
            connMaxIdleTimeMillis = value;
            return this;
        }

        public Builder queryTimeoutSeconds(int value) {
            queryTimeoutSeconds = value;
            return this;
        }

        public Builder monitorIntervalSeconds(int value) {
            monitorIntervalSeconds = value;
            return this;
        }

        public Builder maxLagBytes(long value) {
            maxLagBytes = value;
            return this;
        }

        public Builder maxLagMillis(long value) {
            maxLagMillis = value;
            return this;
        }

        public Builder connectionTimeoutMillis(long value) {
            connectionTimeoutMillis = value;
            return this;
        }

        public Builder healthCheckTimeoutMillis(long value) {
            healthCheckTimeoutMillis = value;
            return this;
        }

        public Builder drainTimeoutMillis(long value) {
            drainTimeoutMillis = value;
            return this;
        }

        /** @see RouterSettings#poolMetrics() */
        public Builder poolMetrics(com.zaxxer.hikari.metrics.MetricsTrackerFactory value) {
            poolMetrics = value;
            return this;
        }

        /** @throws IllegalArgumentException if a value is out of range */
        public RouterSettings build() {
            return new RouterSettings(name, master, replicas, searchReplicas, maxOpenConns, maxIdleConns,
                    connMaxLifetimeMillis, connMaxIdleTimeMillis, queryTimeoutSeconds, monitorIntervalSeconds,
                    maxLagBytes, maxLagMillis, connectionTimeoutMillis, healthCheckTimeoutMillis, drainTimeoutMillis,
                    poolMetrics);
        }
    }
}
