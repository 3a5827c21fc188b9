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

    InboundStream(long epoch, long base) {
        this.epoch = epoch;
        this.received = base;
        this.delivered = base;
    }
}
