package io.hacluster.messaging;

/** What membership says about a peer, as far as messaging cares. */
enum PeerState {
    /** Announced alive: send, dial. */
    ALIVE,
    /** Announced suspect: messages wait in the bounded queue; keep reconnecting. */
    SUSPECT,
    /** Declared dead: sends fail; an inbound connection is still accepted (it proves liveness). */
    DEAD,
    /** Left gracefully: sends fail. */
    LEFT,
    /** Known only from its inbound handshake, not yet from membership: send over that connection. */
    UNANNOUNCED;

    boolean acceptsSends() {
        return this == ALIVE || this == SUSPECT || this == UNANNOUNCED;
    }

    boolean dialable() {
        return this == ALIVE || this == SUSPECT;
    }
}
