package io.hacluster.messaging;

/** What membership says about a peer, as far as messaging cares. */
enum PeerState {
    /** Announced alive: send, dial. */
    ALIVE,
    /** Announced suspect: messages wait in the bounded queue; keep reconnecting. */
    SUSPECT,
    /**
     * Declared dead: sends fail and connections are refused until gossip reports the peer alive
     * again (a refutation or a restart, both with a higher incarnation).
     */
    DEAD,
    /** Left gracefully: as {@link #DEAD}; forgotten when gossip forgets it. */
    LEFT,
    /** Known only from its inbound handshake, not yet from membership: send over that connection. */
    UNANNOUNCED;

    boolean acceptsSends() {
        return this == ALIVE || this == SUSPECT || this == UNANNOUNCED;
    }

    boolean isGone() {
        return this == DEAD || this == LEFT;
    }

    boolean dialable() {
        return this == ALIVE || this == SUSPECT;
    }
}
