package io.hacluster.db;

/**
 * Connection counts of one HikariCP pool at the moment of the snapshot.
 *
 * @param pool the pool name, which names the server without credentials
 * @param tier which settings list the server came from
 * @param active connections borrowed right now
 * @param idle connections waiting in the pool
 * @param waiting threads blocked waiting for a connection
 * @param total open connections
 */
public record PoolMetrics(String pool, ServerTier tier, int active, int idle, int waiting, int total) {
}
