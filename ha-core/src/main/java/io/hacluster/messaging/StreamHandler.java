package io.hacluster.messaging;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol on one streaming connection: handshake (HELLO both ways, dialer first), then
 * DATA / ACK / PING frames. Anything malformed closes this connection only, counted; nothing is
 * thrown out of the event loop.
 */
final class StreamHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(StreamHandler.class);

    private final Messenger messenger;
    private final String dialedPeer;
    private final FrameDecoder decoder;
    private PeerLink link;
    private String remoteId;
    private ScheduledFuture<?> handshakeTimeout;
    private long unwritableGeneration;
    private boolean closing;
    /** The peer ended the connection: a reset or an error on read, or an end of stream we did not start. */
    private boolean endedByPeer;

    StreamHandler(Messenger messenger, String dialedPeer, FrameDecoder decoder) {
        this.messenger = messenger;
        this.dialedPeer = dialedPeer;
        this.decoder = decoder;
    }

    /** Closes abruptly with a TCP reset, as a crashed host or a cut cable would look. */
    static void reset(Channel ch) {
        try {
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
        } catch (RuntimeException ignored) {
            // already closed
        }
        ch.close();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        MessengerConfig c = messenger.config();
        handshakeTimeout = ctx.executor().schedule(() -> {
            if (link == null && ctx.channel().isActive()) {
                messenger.counters().idleCloses.increment();
                close(ctx, "no handshake within " + c.handshakeTimeout());
            }
        }, c.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        if (dialedPeer != null) {
            ctx.writeAndFlush(Wire.hello(c.clusterName(), c.nodeId()), ctx.voidPromise());
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            if (closing) {
                return;
            }
            byte type = frame.readByte();
            if (link == null) {
                if (type != Wire.HELLO) {
                    throw new ProtocolException("expected HELLO, got frame type " + type);
                }
                onHello(ctx, Wire.decodeHello(frame));
                return;
            }
            switch (type) {
                case Wire.DATA -> {
                    DataFrame data = Wire.decodeData(frame, messenger.config().maxFrameSize());
                    if (!messenger.receiver.onData(link, ctx.channel(), data)) {
                        messenger.counters().protocolErrors.increment();
                        close(ctx, "sequence gap");
                    }
                }
                case Wire.ACK -> {
                    long[] ack = Wire.decodeAck(frame);
                    messenger.sender.onAck(link, ack[0], ack[1]);
                }
                case Wire.PING -> { }
                case Wire.GOODBYE -> messenger.connections.goodbye(link, ctx.channel());
                default -> throw new ProtocolException("unexpected frame type " + type);
            }
        } catch (ProtocolException e) {
            messenger.counters().protocolErrors.increment();
            close(ctx, e.getMessage());
        } catch (RuntimeException e) {
            messenger.counters().protocolErrors.increment();
            log.warn("unexpected failure on connection {}", describe(ctx), e);
            close(ctx, e.toString());
        } finally {
            frame.release();
        }
    }

    private void onHello(ChannelHandlerContext ctx, Wire.Hello hello) {
        MessengerConfig c = messenger.config();
        String self = c.nodeId();
        String refusal = null;
        if (!hello.clusterName().equals(c.clusterName())) {
            refusal = "cluster name mismatch";
        } else if (hello.nodeId().equals(self)) {
            refusal = "connection from itself";
        } else if (dialedPeer != null && !hello.nodeId().equals(dialedPeer)) {
            refusal = "expected node " + dialedPeer + " but " + LogText.escape(hello.nodeId()) + " answered";
        } else if (dialedPeer == null && self.compareTo(hello.nodeId()) < 0) {
            refusal = "node " + LogText.escape(hello.nodeId()) + " dialed, but the lower id dials";
        } else if (messenger.isCut(hello.nodeId())) {
            refusal = "connection to " + LogText.escape(hello.nodeId()) + " is cut by fault injection";
        }
        remoteId = hello.nodeId();
        if (refusal != null) {
            messenger.counters().handshakeRejections.increment();
            close(ctx, "handshake refused: " + refusal);
            return;
        }
        decoder.handshakeCompleted();
        if (dialedPeer == null) {
            ctx.write(Wire.hello(c.clusterName(), self), ctx.voidPromise()); // before any DATA
        }
        PeerLink p = messenger.connections.established(hello.nodeId(), ctx.channel(), dialedPeer != null);
        if (p == null) {
            messenger.counters().handshakeRejections.increment();
            close(ctx, "handshake refused: peer " + LogText.escape(hello.nodeId()) + " not accepted now");
            return;
        }
        link = p;
        ctx.flush();
        messenger.connections.startTraffic(p, ctx.channel());
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent e) {
            switch (e.state()) {
                case WRITER_IDLE -> {
                    if (link != null) {
                        ctx.writeAndFlush(Wire.ping(), ctx.voidPromise());
                        messenger.sender.scheduleFlush(link, ctx.channel()); // safety net: nothing stays queued on an idle link
                    }
                }
                case READER_IDLE -> {
                    // while reading is paused for back-pressure, silence is our own doing
                    if (link == null || !messenger.receiver.isReadPaused(link)) {
                        messenger.counters().idleCloses.increment();
                        close(ctx, "nothing received within " + messenger.config().idleTimeout());
                    }
                }
                default -> { }
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        if (ch.isWritable()) {
            if (link != null) {
                messenger.sender.scheduleFlush(link, ch);
            }
        } else {
            long generation = ++unwritableGeneration;
            long stallMs = messenger.config().writeStallTimeout().toMillis();
            ctx.executor().schedule(() -> {
                if (!ch.isWritable() && unwritableGeneration == generation && ch.isActive()) {
                    messenger.counters().writeStallCloses.increment();
                    close(ctx, "peer did not read for " + messenger.config().writeStallTimeout());
                }
            }, stallMs, TimeUnit.MILLISECONDS);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
        }
        messenger.counters().connectionsClosed.increment();
        if (link != null) {
            messenger.connections.connectionLost(link, ctx.channel(), endedByPeer || !closing);
        } else if (dialedPeer != null) {
            messenger.connections.dialFailed(dialedPeer);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException && cause.getCause() instanceof FrameTooLongException) {
            messenger.counters().oversizeFrames.increment();
            close(ctx, cause.getCause().getMessage());
        } else if (cause instanceof IOException) {
            endedByPeer = true;
            close(ctx, cause.toString()); // reset by peer and friends: ordinary
        } else {
            messenger.counters().protocolErrors.increment();
            close(ctx, cause.toString());
        }
    }

    private void close(ChannelHandlerContext ctx, String reason) {
        if (closing) {
            return;
        }
        closing = true;
        if (link != null || messenger.isClosed()) {
            log.debug("closing connection {}: {}", describe(ctx), reason);
        } else {
            log.info("closing connection {}: {}", describe(ctx), reason);
        }
        ctx.close();
    }

    private String describe(ChannelHandlerContext ctx) {
        // the id comes from the network: escaped, so a stranger's HELLO cannot forge log lines
        return ctx.channel().remoteAddress() + (remoteId != null ? " (" + LogText.escape(remoteId) + ")" : "");
    }
}
