package io.hacluster.election;

/** What {@link LeaseStore#acquire} answered: this node holds the lease, or another node does. */
sealed interface AcquireOutcome {

    /** This node holds the lease: newly taken (a new token) or renewed (the same token). */
    record Granted(LeaseGrant grant) implements AcquireOutcome {
    }

    /**
     * Another node holds the lease, unexpired in database time.
     *
     * @param holderId the holder
     * @param epoch the highest epoch stored for the cluster
     * @param fencingToken the holder's token
     * @param remainingMillis how long until it expires unless renewed, measured by the database
     */
    record HeldByOther(String holderId, long epoch, long fencingToken, long remainingMillis)
            implements AcquireOutcome {
    }
}
