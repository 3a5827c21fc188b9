package io.hacluster.db;

/** Which list of the settings a server came from; names pools, threads and metrics. */
public enum ServerTier {
    /** {@code DataSource}: takes every write. */
    MASTER,
    /** {@code DataSourceReplicas}: streaming replicas for ordinary reads. */
    REPLICA,
    /** {@code DataSourceSearchReplicas}: replicas reserved for search reads. */
    SEARCH_REPLICA;

    String shortName() {
        return switch (this) {
            case MASTER -> "master";
            case REPLICA -> "replica";
            case SEARCH_REPLICA -> "search";
        };
    }
}
