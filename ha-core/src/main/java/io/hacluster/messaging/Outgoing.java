package io.hacluster.messaging;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** One frame waiting for a connection or an acknowledgement; the body is shared by a broadcast. */
final class Outgoing {

    final long seq;
    final byte[] header;
    final byte[] body;
    /** Told about the acknowledgement or failure; null when nobody waits for it. */
    final AckGroup ackGroup;
    /** The target node. */
    private final String nodeId;
    /** The target's position in {@link #ackGroup}. */
    final int targetIndex;
    /**
     * When it was queued, for the send-to-acknowledgement latency; 0 (not read) unless an observer
     * was set: a clock read per message costs ~80 ns on some virtual machines.
     */
    long queuedNanos;
    /** Whether it was written at least once (a second write is a retransmission). */
    boolean written;

    Outgoing(long seq, byte[] header, byte[] body, AckGroup ackGroup, String nodeId, int targetIndex) {
        this.targetIndex = targetIndex;
        this.seq = seq;
        this.header = header;
        this.body = body;
        this.ackGroup = ackGroup;
        this.nodeId = nodeId;
    }

    String nodeId() {
        return nodeId;
    }

    int size() {
        return header.length + body.length;
    }

    boolean reliable() {
        return seq > 0;
    }

    /**
     * The frame in a pooled direct buffer: one copy that the socket write needs anyway; the arrays
     * stay untouched so the frame can be written again after a reconnect.
     */
    ByteBuf buffer(ByteBufAllocator alloc) {
        ByteBuf buf = alloc.directBuffer(header.length + body.length);
        return buf.writeBytes(header).writeBytes(body);
    }
}
