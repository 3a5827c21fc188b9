package io.hacluster.election;

import java.time.Instant;

/**
 * The lease as granted to (or renewed by) this node.
 *
 * <p>{@code acquiredAt} and {@code expiresAt} are database timestamps: compare them with each
 * other or with other database timestamps, never with this process's clock. What the holder may
 * rely on locally is {@code remainingMillis}, a duration the database measured.
 *
 * @param holderId the node holding the lease (this node)
 * @param epoch the highest epoch stored for the cluster, at least the one this node presented
 * @param fencingToken the token of this holding: drawn from a sequence when the lease was taken,
 *     kept across renewals, greater than every token drawn before
 * @param acquiredAt database time at which this holding (this token) began
 * @param expiresAt database time at which the lease expires unless renewed
 * @param remainingMillis {@code expiresAt} minus the database's clock at the end of the statement
 */
record LeaseGrant(String holderId, long epoch, long fencingToken, Instant acquiredAt, Instant expiresAt,
                  long remainingMillis) {
}
