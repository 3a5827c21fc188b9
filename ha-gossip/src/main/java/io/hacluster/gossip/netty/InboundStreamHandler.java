package io.hacluster.gossip.netty;

import io.hacluster.gossip.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One accepted TCP connection: reads one complete stream message, hands it to
 * {@link Transport.Inbound#onStream}, writes the reply the returned future yields, and closes.
 * This is memberlist's handleConn: one message per connection, extra bytes ignored, and the whole
 * conversation bounded by a deadline.
 */
final class InboundStreamHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(InboundStreamHandler.class);

    private final Supplier<Transport.Inbound> inbound;
    private final Counters counters;
    private final StreamSlots slots;
    private final StreamBuffer buffer;
    private final Duration deadline;
    private boolean holdsSlot;
    private boolean delivered;
    private ScheduledFuture<?> deadlineTask;

    InboundStreamHandler(Supplier<Transport.Inbound> inbound, Counters counters, StreamSlots slots,
                         MessageBoundary boundary, int maxBytes, Duration deadline) {
        this.inbound = inbound;
        this.counters = counters;
        this.slots = slots;
        this.buffer = new StreamBuffer(boundary, maxBytes);
        this.deadline = deadline;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (inbound.get() == null || !slots.tryAcquire()) {
            counters.streamsRejected.increment();
            log.debug("rejected a stream from {}: {} streams open or transport not started",
                    ctx.channel().remoteAddress(), slots.inUse());
            ctx.close();
            return;
        }
        holdsSlot = true;
        deadlineTask = ctx.executor().schedule(() -> {
            counters.streamsDropped.increment();
            log.debug("stream from {} timed out after {} ({} bytes read, delivered={})",
                    ctx.channel().remoteAddress(), deadline, buffer.readable(), delivered);
            ctx.close();
        }, deadline.toNanos(), TimeUnit.NANOSECONDS);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (delivered || !holdsSlot || !(msg instanceof ByteBuf chunk)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        StreamBuffer.Result result = buffer.append(ctx.alloc(), chunk);
        if (result instanceof StreamBuffer.Complete complete) {
            deliver(ctx, complete.message());
        } else if (result instanceof StreamBuffer.TooLarge tooLarge) {
            drop(ctx, "stream exceeds the size bound (" + tooLarge.size() + " bytes)", null);
        } else if (result instanceof StreamBuffer.Malformed malformed) {
            drop(ctx, "malformed stream", malformed.cause());
        } else {
            ctx.read();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent && holdsSlot && !delivered) {
            drop(ctx, "peer closed after " + buffer.readable() + " bytes, before a complete message", null);
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    private void deliver(ChannelHandlerContext ctx, byte[] message) {
        delivered = true;
        InetSocketAddress from = (InetSocketAddress) ctx.channel().remoteAddress();
        Transport.Inbound target = inbound.get();
        CompletableFuture<byte[]> reply;
        try {
            reply = target == null ? null : target.onStream(from, message);
        } catch (RuntimeException | Error e) {
            counters.streamsDropped.increment();
            log.warn("inbound stream handler failed on a {}-byte message from {}", message.length, from, e);
            ctx.close();
            return;
        }
        if (target == null) {
            drop(ctx, "transport closed", null);
            return;
        }
        counters.streamsAccepted.increment();
        if (reply == null) {
            ctx.close();
            return;
        }
        reply.whenComplete((bytes, error) -> ctx.executor().execute(() -> writeReply(ctx, from, bytes, error)));
    }

    private void writeReply(ChannelHandlerContext ctx, InetSocketAddress from, byte[] bytes, Throwable error) {
        if (!ctx.channel().isActive()) {
            return; // timed out or closed by the peer; already counted or nothing left to answer
        }
        if (error != null || bytes == null) {
            if (error != null) {
                log.debug("no reply to the stream from {}: {}", from, error.toString());
            }
            ctx.close();
            return;
        }
        ctx.writeAndFlush(Unpooled.wrappedBuffer(bytes)).addListener((ChannelFutureListener) written -> {
            if (!written.isSuccess()) {
                counters.streamsDropped.increment();
                log.debug("writing the reply to {} failed", from, written.cause());
            }
            written.channel().close();
        });
    }

    private void drop(ChannelHandlerContext ctx, String reason, Throwable cause) {
        counters.streamsDropped.increment();
        if (log.isDebugEnabled()) {
            log.debug("dropped a stream from {}: {}", ctx.channel().remoteAddress(), reason, cause);
        }
        delivered = true; // read nothing more from this connection
        buffer.release();
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        buffer.release();
        if (deadlineTask != null) {
            deadlineTask.cancel(false);
        }
        if (holdsSlot) {
            holdsSlot = false;
            slots.release();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!delivered) {
            drop(ctx, "read failed", cause);
        } else {
            log.debug("stream from {} failed after delivery", ctx.channel().remoteAddress(), cause);
            ctx.close();
        }
    }
}
