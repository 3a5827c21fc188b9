package io.hacluster.db;

import java.util.List;

/**
 * A point-in-time view of a {@link DatabaseRouter}: pools, servers and counters since start.
 *
 * @param pools one entry per pool of the current settings (pools still draining after a reload are left out)
 * @param servers the master first, then replicas, then search replicas
 * @param replicaFallbacks reads that went to the master because no replica could serve them
 * @param searchFallbacks search reads that went to ordinary replicas (or the master) because no search replica could
 * @param tokenFallbacks token reads sent to the master because no replica had replayed the token's position
 * @param readRetries reads re-run by {@link DatabaseRouter#read} after a server failure
 * @param evictions connections evicted for a role error (SQLState 25006 on the master) plus pools soft-evicted
 *     because their server went down or changed role
 * @param markedDown times a replica was taken out of rotation because a connection to it failed in use
 * @param lockedToMaster whether replica reads are currently forced to the master
 */
public record RouterMetrics(List<PoolMetrics> pools, List<ServerStatus> servers, long replicaFallbacks,
                            long searchFallbacks, long tokenFallbacks, long readRetries, long evictions,
                            long markedDown, boolean lockedToMaster) {

    public RouterMetrics {
        pools = List.copyOf(pools);
        servers = List.copyOf(servers);
    }
}
