package io.hacluster.messaging;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the stream into frames ({@code u32 length | body}) and emits each body as a retained
 * slice. The length is checked before anything is buffered: until the handshake completes only
 * {@link Wire#MAX_HANDSHAKE_FRAME} bytes are accepted, afterwards the configured maximum, so an
 * unauthenticated peer cannot make this node buffer a large frame. A bad prefix raises an
 * exception that the stream handler turns into a counted close.
 */
final class FrameDecoder extends ByteToMessageDecoder {

    private final int maxFrameSize;
    private volatile boolean handshaken;

    FrameDecoder(int maxFrameSize) {
        this.maxFrameSize = maxFrameSize;
    }

    void handshakeCompleted() {
        handshaken = true;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        while (in.readableBytes() >= 4) {
            long length = in.getUnsignedInt(in.readerIndex());
            int limit = handshaken ? maxFrameSize : Wire.MAX_HANDSHAKE_FRAME;
            if (length < 1 || length > limit) {
                in.skipBytes(in.readableBytes());
                throw new FrameTooLongException("frame length " + length + " outside 1.." + limit);
            }
            if (in.readableBytes() < 4 + length) {
                return;
            }
            in.skipBytes(4);
            out.add(in.readRetainedSlice((int) length));
            if (!handshaken) {
                return; // the handler must see the HELLO before the limit can grow
            }
        }
    }
}
