package io.hacluster.gossip.wire;

/** {@code pushPullHeader}: keys Nodes, UserStateLen, Join. Precedes the node states of a push/pull stream. */
public record PushPullHeader(int nodes, int userStateLen, boolean join) {
}
