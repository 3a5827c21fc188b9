package io.hacluster.election;

import java.time.Instant;
import java.util.Optional;

/**
 * The lease row of a cluster as {@link LeaseStore#read} found it, for status pages and tests.
 * Timestamps are database time; {@code remainingMillis} and {@code held} were decided by the
 * database in the same statement.
 *
 * @param clusterName the cluster
 * @param holderId the last holder, empty once released
 * @param epoch the highest epoch any node presented for the cluster
 * @param fencingToken the token of the last holding (kept after release, so fenced writes still
 *     compare against it)
 * @param acquiredAt database time the last holding began
 * @param renewedAt database time of the last grant or renewal
 * @param expiresAt database time the lease expires (or expired)
 * @param remainingMillis time until {@code expiresAt} by the database's clock, 0 once past
 * @param held whether a holder is set and the lease is unexpired in database time
 */
record LeaseRow(String clusterName, Optional<String> holderId, long epoch, long fencingToken, Instant acquiredAt,
                Instant renewedAt, Instant expiresAt, long remainingMillis, boolean held) {
}
