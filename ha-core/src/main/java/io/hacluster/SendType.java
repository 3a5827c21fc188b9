package io.hacluster;

/**
 * How a {@link ClusterMessage} travels between nodes. A local send option only; it never goes on
 * the wire.
 */
public enum SendType {
    /**
     * Fire and forget: a gossip UDP user message when the encoded message fits in one packet,
     * otherwise a frame on the streaming connection without acknowledgement or retransmission.
     * May be lost, duplicated never, reordered relative to reliable messages.
     */
    BEST_EFFORT,
    /**
     * Sequenced, acknowledged once the receiver's handler has run, retransmitted after a
     * reconnect, delivered at most once and in per-sender FIFO order.
     */
    RELIABLE
}
