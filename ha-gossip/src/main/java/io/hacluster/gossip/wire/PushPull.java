package io.hacluster.gossip.wire;

import java.util.List;

/**
 * A whole push/pull stream message: memberlist's {@code pushPullHeader}, then {@code Nodes}
 * node states, then {@code UserStateLen} raw bytes of delegate state.
 *
 * @param join      true for the exchange that joins a cluster, false for anti-entropy
 * @param nodes     every node this side knows, in any state
 * @param userState the delegate's opaque state, empty when there is none (never null)
 */
public record PushPull(boolean join, List<PushNodeState> nodes, byte[] userState) {

    /** Copies the list and turns a null user state into an empty one. */
    public PushPull {
        nodes = List.copyOf(nodes);
        userState = userState == null ? new byte[0] : userState;
    }

    /** The header that precedes the node states on the wire. */
    public PushPullHeader header() {
        return new PushPullHeader(nodes.size(), userState.length, join);
    }
}
