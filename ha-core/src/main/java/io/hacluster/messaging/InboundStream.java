package io.hacluster.messaging;

/**
 * Receive-side state of one sender epoch: the highest sequence number accepted for delivery and
 * the highest whose handler has run (what the cumulative ACK reports). Guarded by the owning
 * {@link PeerLink}.
 */
final class InboundStream {

    final long epoch;
    long received;
    long delivered;
    /** Set when this node, closing, dropped a frame of the stream: every later frame is dropped too. */
    boolean dropping;

    InboundStream(long epoch, long base) {
        this.epoch = epoch;
        this.received = base;
        this.delivered = base;
    }
}
