package io.hacluster;

import io.hacluster.config.SqlSettings;
import io.hacluster.db.Dsn;
import io.hacluster.db.RouterSettings;

/**
 * Maps Mattermost's {@code SqlSettings} onto the router's own settings, field by field.
 * {@code ReplicaLagSettings} has no counterpart: the router measures lag itself (WAL bytes and
 * replay time) and routes on it, where Mattermost only reports it.
 */
final class RouterSettingsMapper {

    private RouterSettingsMapper() {
    }

    static RouterSettings map(SqlSettings sql, String nodeId) {
        return map(sql, nodeId, null);
    }

    /** With HikariCP's pool metrics ({@code ClusterNodeBuilder.databasePoolMetrics}), or null for none. */
    static RouterSettings map(SqlSettings sql, String nodeId, com.zaxxer.hikari.metrics.MetricsTrackerFactory poolMetrics) {
        RouterSettings.Builder b = RouterSettings.builder(Dsn.parse(sql.dataSource()))
                .name(nodeId)
                .maxOpenConns(sql.maxOpenConns())
                .maxIdleConns(sql.maxIdleConns())
                .connMaxLifetimeMillis(sql.connMaxLifetimeMilliseconds())
                .connMaxIdleTimeMillis(sql.connMaxIdleTimeMilliseconds())
                .queryTimeoutSeconds(sql.queryTimeout())
                .monitorIntervalSeconds(sql.replicaMonitorIntervalSeconds())
                .maxLagBytes(sql.replicaMaxLagBytes())
                .maxLagMillis(sql.replicaMaxLagMilliseconds())
                .poolMetrics(poolMetrics);
        for (String replica : sql.dataSourceReplicas()) {
            b.addReplica(Dsn.parse(replica));
        }
        for (String search : sql.dataSourceSearchReplicas()) {
            b.addSearchReplica(Dsn.parse(search));
        }
        return b.build();
    }
}
