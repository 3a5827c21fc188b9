package io.hacluster.election;

import java.time.Instant;

/** What {@link LeaseStore#renew} answered: renewed, or lost. */
sealed interface RenewOutcome {

    /**
     * The lease is extended; the token is unchanged.
     *
     * @param expiresAt the new expiry, in database time
     * @param remainingMillis how long until it expires, measured by the database
     */
    record Renewed(Instant expiresAt, long remainingMillis) implements RenewOutcome {
    }

    /**
     * This node does not hold the lease with that token: it expired (in database time), was
     * released, was taken by another node, or the row is gone. Stop acting as leader at once.
     */
    record Lost() implements RenewOutcome {
    }
}
