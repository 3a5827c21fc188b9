package io.hacluster.gossip;

/**
 * What the local node believes about a member. The numeric codes are memberlist's
 * {@code NodeStateType} values, which travel in push/pull state exchanges.
 */
public enum MemberState {
    /** Answering probes (or not yet suspected). */
    ALIVE(0),
    /** A probe failed; the member may refute before its suspicion timer fires. */
    SUSPECT(1),
    /** Declared failed: the suspicion timer fired, or another node's dead message arrived. */
    DEAD(2),
    /** Left gracefully: its own dead message (From equal to Node) announced the departure. */
    LEFT(3);

    private final int code;

    MemberState(int code) {
        this.code = code;
    }

    /** memberlist's wire value for this state. */
    public int code() {
        return code;
    }

    /** The state for a wire value, or {@code null} when the value is unknown. */
    public static MemberState fromCode(int code) {
        return switch (code) {
            case 0 -> ALIVE;
            case 1 -> SUSPECT;
            case 2 -> DEAD;
            case 3 -> LEFT;
            default -> null;
        };
    }

    /** True for DEAD and LEFT: the member is gone from the live view. */
    public boolean isGone() {
        return this == DEAD || this == LEFT;
    }
}
