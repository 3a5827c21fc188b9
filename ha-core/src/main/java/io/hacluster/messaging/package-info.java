/**
 * Inter-node messaging on the StreamingPort: {@link io.hacluster.messaging.Messenger} keeps one
 * persistent TCP connection per peer pair and delivers {@link io.hacluster.ClusterMessage}s
 * reliably (sequenced, acknowledged after the handler ran, retransmitted after reconnect,
 * deduplicated, per-sender FIFO) or best effort (through a pluggable
 * {@link io.hacluster.messaging.BestEffortChannel}, e.g. gossip UDP). Membership comes in through
 * {@code peerAlive / peerSuspect / peerDead / peerLeft}; this package knows nothing about gossip.
 * The wire format is described in {@code docs/messaging.md}.
 */
package io.hacluster.messaging;
