package io.hacluster;

import java.util.Objects;

/**
 * One connection pool as {@link ClusterNode#recycleDatabaseConnections()} found it: each of its
 * connections is replaced, idle ones at once and borrowed ones when they are given back.
 *
 * @param pool the pool's name
 * @param tier {@code MASTER}, {@code REPLICA} or {@code SEARCH_REPLICA}
 * @param connections connections the pool held when it was recycled
 * @param borrowed of those, how many were borrowed (in-flight work, left to finish)
 */
public record RecycledPool(String pool, String tier, int connections, int borrowed) {

    public RecycledPool {
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(tier, "tier");
    }
}
