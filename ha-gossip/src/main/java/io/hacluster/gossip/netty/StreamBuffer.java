package io.hacluster.gossip.netty;

import io.hacluster.gossip.wire.MalformedMessageException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.ByteBuffer;

/**
 * Collects the bytes of one stream message up to a bound and asks a {@link MessageBoundary}
 * whether they form a complete message. Owned by one channel, used only on its event loop.
 */
final class StreamBuffer {
    private final MessageBoundary boundary;
    private final int maxBytes;
    private ByteBuf bytes;

    StreamBuffer(MessageBoundary boundary, int maxBytes) {
        this.boundary = boundary;
        this.maxBytes = maxBytes;
    }

    /** Outcome of {@link #append}: the complete message, or why there is none yet. */
    sealed interface Result permits Complete, NeedMore, TooLarge, Malformed {
    }

    record Complete(byte[] message) implements Result {
    }

    record NeedMore() implements Result {
    }

    record TooLarge(long size) implements Result {
    }

    record Malformed(Exception cause) implements Result {
    }

    private static final NeedMore NEED_MORE = new NeedMore();

    /** Appends {@code chunk} (and releases it) and checks for a complete message. */
    Result append(ByteBufAllocator alloc, ByteBuf chunk) {
        try {
            long size = (long) readable() + chunk.readableBytes();
            if (size > maxBytes) {
                return new TooLarge(size);
            }
            if (bytes == null) {
                bytes = alloc.heapBuffer(Math.max(256, chunk.readableBytes()), maxBytes);
            }
            bytes.writeBytes(chunk);
        } finally {
            chunk.release();
        }
        ByteBuffer view = bytes.nioBuffer().asReadOnlyBuffer();
        int length;
        try {
            length = boundary.completeLength(view);
        } catch (MalformedMessageException | RuntimeException e) {
            return new Malformed(e);
        }
        if (length < 0) {
            return NEED_MORE;
        }
        if (length == 0 || length > bytes.readableBytes()) {
            return new Malformed(new IllegalStateException(
                    "message boundary reported " + length + " of " + bytes.readableBytes() + " bytes"));
        }
        byte[] message = new byte[length];
        bytes.getBytes(bytes.readerIndex(), message);
        release();
        return new Complete(message);
    }

    int readable() {
        return bytes == null ? 0 : bytes.readableBytes();
    }

    void release() {
        if (bytes != null) {
            bytes.release();
            bytes = null;
        }
    }
}
