package io.hacluster;

/** What gossip believes about a cluster member. */
public enum MembershipState {
    /** Answers its probes. */
    ALIVE,
    /** Missed its probes; declared dead unless it refutes the suspicion in time. */
    SUSPECT,
    /** Declared dead after an unrefuted suspicion (or by a peer that saw it fail). */
    DEAD,
    /** Left gracefully ({@link ClusterNode#close()}). */
    LEFT;

    /** Alive or suspect: a member that messages are sent to. */
    public boolean isLive() {
        return this == ALIVE || this == SUSPECT;
    }

    static MembershipState of(io.hacluster.gossip.MemberState gossip) {
        return switch (gossip) {
            case ALIVE -> ALIVE;
            case SUSPECT -> SUSPECT;
            case DEAD -> DEAD;
            case LEFT -> LEFT;
        };
    }
}
