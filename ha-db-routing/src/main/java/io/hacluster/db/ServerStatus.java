package io.hacluster.db;

/**
 * One server's state as the {@link DatabaseRouter} last saw it.
 *
 * @param server {@code host:port/database}, no credentials
 * @param tier which settings list the server came from
 * @param state last known state
 * @param lagBytes replay lag behind the master in bytes, -1 when unknown (always -1 for the master)
 * @param lagMillis estimated replay lag in milliseconds, -1 when unknown (always -1 for the master)
 * @param reason why the server is in this state, for logs and dashboards (no secrets)
 * @param sinceEpochMillis when the state last changed
 */
public record ServerStatus(String server, ServerTier tier, ServerState state, long lagBytes, long lagMillis,
                           String reason, long sinceEpochMillis) {
}
