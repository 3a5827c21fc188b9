package io.hacluster.gossip.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletableFuture;

/**
 * The initiator's side of one stream exchange: writes the request and, when a reply is expected,
 * reads until the reply is one complete message, then closes. Completes {@code result} exactly
 * once, on the channel's event loop.
 */
final class ExchangeHandler extends ChannelInboundHandlerAdapter {
    private final byte[] request;
    private final boolean expectReply;
    private final CompletableFuture<byte[]> result;
    private final StreamBuffer buffer;

    ExchangeHandler(byte[] request, boolean expectReply, CompletableFuture<byte[]> result,
                    MessageBoundary boundary, int maxReplyBytes) {
        this.request = request;
        this.expectReply = expectReply;
        this.result = result;
        this.buffer = new StreamBuffer(boundary, maxReplyBytes);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(request)).addListener((ChannelFutureListener) written -> {
            if (!written.isSuccess()) {
                fail(ctx, new IOException("writing the request failed", written.cause()));
            } else if (!expectReply) {
                result.complete(null);
                ctx.close();
            } else {
                ctx.read();
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!expectReply || result.isDone() || !(msg instanceof ByteBuf chunk)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        StreamBuffer.Result outcome = buffer.append(ctx.alloc(), chunk);
        if (outcome instanceof StreamBuffer.Complete complete) {
            result.complete(complete.message());
            ctx.close();
        } else if (outcome instanceof StreamBuffer.TooLarge tooLarge) {
            fail(ctx, new IOException("reply exceeds the size bound (" + tooLarge.size() + " bytes)"));
        } else if (outcome instanceof StreamBuffer.Malformed malformed) {
            fail(ctx, new IOException("malformed reply", malformed.cause()));
        } else {
            ctx.read();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent) {
            fail(ctx, new EOFException("peer closed the stream after " + buffer.readable()
                    + " bytes, before a complete reply"));
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        buffer.release();
        if (!result.isDone()) {
            result.completeExceptionally(new ClosedChannelException());
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause instanceof IOException io ? io : new IOException(cause));
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        buffer.release();
        result.completeExceptionally(cause);
        ctx.close();
    }
}
