package io.hacluster.config;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code SqlSettings} section of a Mattermost-shaped {@code config.json}: the master DSN,
 * read replicas, search replicas, pool sizes and the replica lag limits the router uses.
 *
 * <p>JSON names are Mattermost's PascalCase names; defaults are Mattermost's where Mattermost has
 * the field. {@link #toString()} masks every DSN password.
 *
 * <p>A value, not validated on construction; {@link HaConfig} validates the whole configuration
 * and reports every problem at once. Build one with {@link #builder()} or {@link #defaults()}.
 *
 * @param driverName database driver; only {@code postgres} is supported ({@code DriverName},
 *     default "postgres")
 * @param dataSource DSN of the master, {@code postgres://user:pass@host:port/db?params} or
 *     {@code jdbc:postgresql://...}; "" means no database ({@code DataSource}, default "")
 * @param dataSourceReplicas DSNs of read replicas ({@code DataSourceReplicas}, default empty)
 * @param dataSourceSearchReplicas DSNs of search replicas ({@code DataSourceSearchReplicas},
 *     default empty)
 * @param maxIdleConns idle connections kept per DSN ({@code MaxIdleConns}, default 20)
 * @param maxOpenConns open connections allowed per DSN ({@code MaxOpenConns}, default 300)
 * @param connMaxLifetimeMilliseconds a connection older than this is retired; 0 means no limit
 *     ({@code ConnMaxLifetimeMilliseconds}, default 3600000)
 * @param connMaxIdleTimeMilliseconds an idle connection older than this is closed; 0 means no limit
 *     ({@code ConnMaxIdleTimeMilliseconds}, default 300000)
 * @param queryTimeout statement timeout in seconds; 0 means none ({@code QueryTimeout}, default 30)
 * @param replicaLagSettings lag queries per DSN ({@code ReplicaLagSettings}, default empty)
 * @param replicaMonitorIntervalSeconds how often replica health and lag are checked
 *     ({@code ReplicaMonitorIntervalSeconds}, default 5)
 * @param replicaMaxLagBytes a replica further behind than this many WAL bytes gets no reads
 *     ({@code ReplicaMaxLagBytes}, default 16777216)
 * @param replicaMaxLagMilliseconds a replica further behind than this gets no reads
 *     ({@code ReplicaMaxLagMilliseconds}, default 10000)
 */
public record SqlSettings(
        @JsonProperty("DriverName") String driverName,
        @JsonProperty("DataSource") String dataSource,
        @JsonProperty("DataSourceReplicas") List<String> dataSourceReplicas,
        @JsonProperty("DataSourceSearchReplicas") List<String> dataSourceSearchReplicas,
        @JsonProperty("MaxIdleConns") int maxIdleConns,
        @JsonProperty("MaxOpenConns") int maxOpenConns,
        @JsonProperty("ConnMaxLifetimeMilliseconds") long connMaxLifetimeMilliseconds,
        @JsonProperty("ConnMaxIdleTimeMilliseconds") long connMaxIdleTimeMilliseconds,
        @JsonProperty("QueryTimeout") int queryTimeout,
        @JsonProperty("ReplicaLagSettings") List<ReplicaLagSetting> replicaLagSettings,
        @JsonProperty("ReplicaMonitorIntervalSeconds") int replicaMonitorIntervalSeconds,
        @JsonProperty("ReplicaMaxLagBytes") long replicaMaxLagBytes,
        @JsonProperty("ReplicaMaxLagMilliseconds") long replicaMaxLagMilliseconds) {

    /** Section name in {@code config.json}. */
    public static final String SECTION = "SqlSettings";

    /** Null strings become "" and null lists become empty, so every accessor is non-null. */
    public SqlSettings {
        driverName = Objects.requireNonNullElse(driverName, "");
        dataSource = Objects.requireNonNullElse(dataSource, "");
        dataSourceReplicas = dataSourceReplicas == null ? List.of() : List.copyOf(dataSourceReplicas);
        dataSourceSearchReplicas = dataSourceSearchReplicas == null
                ? List.of() : List.copyOf(dataSourceSearchReplicas);
        replicaLagSettings = replicaLagSettings == null ? List.of() : List.copyOf(replicaLagSettings);
    }

    /** Every field at its default. */
    public static SqlSettings defaults() {
        return builder().build();
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this value. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** {@link #queryTimeout()} as a duration; {@link Duration#ZERO} means no timeout. */
    public Duration queryTimeoutDuration() {
        return Duration.ofSeconds(queryTimeout);
    }

    /** Field values with every DSN password (and anything else that looks like one) masked. */
    @Override
    public String toString() {
        return MaskedRecords.toString(this);
    }

    /** Mutable builder for {@link SqlSettings}; starts from the defaults. */
    public static final class Builder {
        private String driverName = "postgres";
        private String dataSource = "";
        private List<String> dataSourceReplicas = List.of();
        private List<String> dataSourceSearchReplicas = List.of();
        private int maxIdleConns = 20;
        private int maxOpenConns = 300;
        private long connMaxLifetimeMilliseconds = 3_600_000;
        private long connMaxIdleTimeMilliseconds = 300_000;
        private int queryTimeout = 30;
        private List<ReplicaLagSetting> replicaLagSettings = List.of();
        private int replicaMonitorIntervalSeconds = 5;
        private long replicaMaxLagBytes = 16L * 1024 * 1024;
        private long replicaMaxLagMilliseconds = 10_000;

        private Builder() {
        }

        private Builder(SqlSettings s) {
            driverName = s.driverName;
            dataSource = s.dataSource;
            dataSourceReplicas = s.dataSourceReplicas;
            dataSourceSearchReplicas = s.dataSourceSearchReplicas;
            maxIdleConns = s.maxIdleConns;
            maxOpenConns = s.maxOpenConns;
            connMaxLifetimeMilliseconds = s.connMaxLifetimeMilliseconds;
            connMaxIdleTimeMilliseconds = s.connMaxIdleTimeMilliseconds;
            queryTimeout = s.queryTimeout;
            replicaLagSettings = s.replicaLagSettings;
            replicaMonitorIntervalSeconds = s.replicaMonitorIntervalSeconds;
            replicaMaxLagBytes = s.replicaMaxLagBytes;
            replicaMaxLagMilliseconds = s.replicaMaxLagMilliseconds;
        }

        /** @see SqlSettings#driverName() */
        public Builder driverName(String value) {
            driverName = value;
            return this;
        }

        /** @see SqlSettings#dataSource() */
        public Builder dataSource(String value) {
            dataSource = value;
            return this;
        }

        /** @see SqlSettings#dataSourceReplicas() */
        public Builder dataSourceReplicas(List<String> value) {
            dataSourceReplicas = value;
            return this;
        }

        /** @see SqlSettings#dataSourceSearchReplicas() */
        public Builder dataSourceSearchReplicas(List<String> value) {
            dataSourceSearchReplicas = value;
            return this;
        }

        /** @see SqlSettings#maxIdleConns() */
        public Builder maxIdleConns(int value) {
            maxIdleConns = value;
            return this;
        }

        /** @see SqlSettings#maxOpenConns() */
        public Builder maxOpenConns(int value) {
            maxOpenConns = value;
            return this;
        }

        /** @see SqlSettings#connMaxLifetimeMilliseconds() */
        public Builder connMaxLifetimeMilliseconds(long value) {
            connMaxLifetimeMilliseconds = value;
            return this;
        }

        /** @see SqlSettings#connMaxIdleTimeMilliseconds() */
        public Builder connMaxIdleTimeMilliseconds(long value) {
            connMaxIdleTimeMilliseconds = value;
            return this;
        }

        /** @see SqlSettings#queryTimeout() */
        public Builder queryTimeout(int seconds) {
            queryTimeout = seconds;
            return this;
        }

        /** @see SqlSettings#replicaLagSettings() */
        public Builder replicaLagSettings(List<ReplicaLagSetting> value) {
            replicaLagSettings = value;
            return this;
        }

        /** @see SqlSettings#replicaMonitorIntervalSeconds() */
        public Builder replicaMonitorIntervalSeconds(int value) {
            replicaMonitorIntervalSeconds = value;
            return this;
        }

        /** @see SqlSettings#replicaMaxLagBytes() */
        public Builder replicaMaxLagBytes(long value) {
            replicaMaxLagBytes = value;
            return this;
        }

        /** @see SqlSettings#replicaMaxLagMilliseconds() */
        public Builder replicaMaxLagMilliseconds(long value) {
            replicaMaxLagMilliseconds = value;
            return this;
        }

        /** The settings; not validated here (see {@link HaConfig}). */
        public SqlSettings build() {
            return new SqlSettings(driverName, dataSource, dataSourceReplicas, dataSourceSearchReplicas,
                    maxIdleConns, maxOpenConns, connMaxLifetimeMilliseconds, connMaxIdleTimeMilliseconds,
                    queryTimeout, replicaLagSettings, replicaMonitorIntervalSeconds, replicaMaxLagBytes,
                    replicaMaxLagMilliseconds);
        }
    }
}
