package io.hacluster.messaging;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol on one streaming connection: handshake (HELLO both ways, dialer first; with a
 * cluster key the keyed HELLO of {@link HelloAuth} and the dialer's AUTH), then DATA / ACK / PING
 * frames. Before a HELLO is accepted: the cluster name, the dial direction, under TLS the peer
 * certificate's binding to the claimed id ({@link PeerCertificate}), on accepted connections the
 * membership and address checks ({@link Admission}). Anything malformed closes this connection only, counted; nothing is
 * thrown out of the event loop.
 */
final class StreamHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(StreamHandler.class);

    private final Messenger messenger;
    private final String dialedPeer;
    private final FrameDecoder decoder;
    /** Where this connection dials, or null for accepted connections. */
    private final InetSocketAddress dialedAddress;
    /** Whether this accepted connection counts against {@link StreamSecurity#maxPendingHandshakes()}. */
    private boolean holdsSlot;
    /** The cluster keys this handshake uses (empty: plain HELLO). */
    private List<byte[]> keys = List.of();
    /** The dialer's nonce of a keyed HELLO. */
    private byte[] ownNonce;
    /** Set on the acceptor while it waits for the dialer's AUTH. */
    private HelloAuth.Transcript transcript;
    private PeerLink link;
    /** Clock-offset probing on this connection, once the handshake completed. */
    private ClockProbe.Session clockProbe;
    private String remoteId;
    private ScheduledFuture<?> handshakeTimeout;
    private long unwritableGeneration;
    private boolean closing;
    /** The peer ended the connection: a reset or an error on read, or an end of stream we did not start. */
    private boolean endedByPeer;

    StreamHandler(Messenger messenger, String dialedPeer, InetSocketAddress dialedAddress, FrameDecoder decoder,
                  boolean holdsSlot) {
        this.messenger = messenger;
        this.dialedPeer = dialedPeer;
        this.dialedAddress = dialedAddress;
        this.decoder = decoder;
        this.holdsSlot = holdsSlot;
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
            keys = clusterKeys();
            if (keys.isEmpty()) {
                ctx.writeAndFlush(Wire.hello(c.clusterName(), c.nodeId()), ctx.voidPromise());
            } else {
                ownNonce = HelloAuth.nonce();
                ctx.writeAndFlush(Wire.keyedHello(c.clusterName(), c.nodeId(), ownNonce, null), ctx.voidPromise());
            }
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
                if (transcript != null) {
                    if (type != Wire.AUTH) {
                        throw new ProtocolException("expected AUTH, got frame type " + type);
                    }
                    onAuth(ctx, Wire.decodeAuth(frame));
                } else if (type != Wire.HELLO || remoteId != null) {
                    throw new ProtocolException("expected HELLO, got frame type " + type);
                } else {
                    onHello(ctx, Wire.decodeHello(frame));
                }
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
                case Wire.PING -> clockProbe.onPing(frame);
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
        remoteId = hello.nodeId();
        if (dialedPeer == null) {
            keys = clusterKeys();
        }
        String refusal = refusal(ctx, hello);
        if (refusal != null) {
            refuse(ctx, refusal);
            return;
        }
        if (keys.isEmpty()) {
            establish(ctx, hello.nodeId(), true);
        } else if (dialedPeer == null) {
            // the acceptor proves the key first, over the dialer's fresh nonce, and waits for AUTH
            byte[] nonce = HelloAuth.nonce();
            transcript = new HelloAuth.Transcript(c.clusterName(), hello.nodeId(), self, hello.nonce(), nonce);
            ctx.writeAndFlush(Wire.keyedHello(c.clusterName(), self,
                    nonce, HelloAuth.acceptorProof(keys.get(0), transcript)), ctx.voidPromise());
        } else {
            HelloAuth.Transcript t = new HelloAuth.Transcript(c.clusterName(), self, hello.nodeId(), ownNonce,
                    hello.nonce());
            byte[] key = hello.mac() == null ? null : HelloAuth.acceptorKeyOf(keys, t, hello.mac());
            if (key == null) {
                refuse(ctx, "node " + LogText.escape(hello.nodeId()) + " failed the cluster key proof");
                return;
            }
            ctx.write(Wire.auth(HelloAuth.dialerProof(key, t)), ctx.voidPromise()); // before any DATA
            establish(ctx, hello.nodeId(), false);
        }
    }

    private void onAuth(ChannelHandlerContext ctx, byte[] proof) {
        if (!HelloAuth.dialerProofValid(keys, transcript, proof)) {
            refuse(ctx, "node " + LogText.escape(remoteId) + " failed the cluster key proof");
            return;
        }
        establish(ctx, remoteId, false);
    }

    /** Why this HELLO is refused, or null. Every text from the peer is escaped. */
    private String refusal(ChannelHandlerContext ctx, Wire.Hello hello) {
        MessengerConfig c = messenger.config();
        String self = c.nodeId();
        String id = LogText.escape(hello.nodeId());
        if (!hello.clusterName().equals(c.clusterName())) {
            return "cluster name mismatch";
        } else if (hello.nodeId().equals(self)) {
            return "connection from itself";
        } else if (dialedPeer != null && !hello.nodeId().equals(dialedPeer)) {
            return "expected node " + dialedPeer + " but " + id + " answered";
        } else if (dialedPeer == null && self.compareTo(hello.nodeId()) < 0) {
            return "node " + id + " dialed, but the lower id dials";
        } else if (messenger.isCut(hello.nodeId())) {
            return "connection to " + id + " is cut by fault injection";
        } else if (!keys.isEmpty() && !hello.keyed()) {
            return "node " + id + " sent a HELLO without the cluster key's proof";
        } else if (keys.isEmpty() && hello.keyed()) {
            return "node " + id + " uses a cluster key, this node has none";
        }
        String tls = certificateRefusal(ctx, hello.nodeId());
        if (tls != null) {
            return tls;
        }
        return dialedPeer == null ? messenger.admission.refusal(hello.nodeId(), remote(ctx)) : null;
    }

    /** Under TLS, whether the peer's certificate may claim {@code nodeId}; null when it may or without TLS. */
    private String certificateRefusal(ChannelHandlerContext ctx, String nodeId) {
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        if (tls == null) {
            return null;
        }
        SSLSession session = tls.engine().getSession();
        if (dialedPeer == null && !presentedCertificate(session)) {
            return null;  // server-only TLS: the client is not identified by a certificate
        }
        java.net.InetAddress address = dialedPeer != null
                ? (dialedAddress == null ? null : dialedAddress.getAddress())
                : messenger.admission.memberAddress(nodeId);
        return PeerCertificate.refusal(session, messenger.config().security().tlsIdentity(), nodeId, address);
    }

    private static boolean presentedCertificate(SSLSession session) {
        try {
            return session.getPeerCertificates().length > 0;
        } catch (SSLPeerUnverifiedException e) {
            return false;
        }
    }

    private void establish(ChannelHandlerContext ctx, String nodeId, boolean writeHello) {
        MessengerConfig c = messenger.config();
        decoder.handshakeCompleted();
        if (dialedPeer == null && writeHello) {
            ctx.write(Wire.hello(c.clusterName(), c.nodeId()), ctx.voidPromise()); // before any DATA
        }
        PeerLink p = messenger.connections.established(nodeId, ctx.channel(), dialedPeer != null);
        if (p == null) {
            refuse(ctx, "peer " + LogText.escape(nodeId) + " not accepted now");
            return;
        }
        link = p;
        transcript = null;
        releaseSlot();
        ctx.flush();
        messenger.connections.startTraffic(p, ctx.channel());
        clockProbe = messenger.clockProbe.open(p, ctx);
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
        }
    }

    private void refuse(ChannelHandlerContext ctx, String why) {
        messenger.counters().handshakeRejections.increment();
        close(ctx, "handshake refused: " + why);
    }

    private List<byte[]> clusterKeys() {
        StreamKeys k = messenger.config().security().keys();
        if (k == null) {
            return List.of();
        }
        List<byte[]> list = k.keys();
        if (list == null || list.isEmpty()) {
            return List.of();
        }
        // an empty or null entry is no key (HMAC refuses empty keys); never let it break a handshake
        return list.stream().filter(key -> key != null && key.length > 0).toList();
    }

    private static InetSocketAddress remote(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a : null;
    }

    /** Gives back this connection's place among those awaiting a handshake, once. */
    private void releaseSlot() {
        if (holdsSlot) {
            holdsSlot = false;
            messenger.pendingHandshakes.decrementAndGet();
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
        releaseSlot();
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
        }
        messenger.counters().connectionsClosed.increment();
        if (clockProbe != null) {
            clockProbe.close();
        }
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
            // a connection that never completed its handshake: anyone can cause these, so rate-limited
            messenger.refusalLog.info("closing connection {}: {}", describe(ctx), reason);
        }
        ctx.close();
    }

    private String describe(ChannelHandlerContext ctx) {
        // the id comes from the network: escaped, so a stranger's HELLO cannot forge log lines
        return ctx.channel().remoteAddress() + (remoteId != null ? " (" + LogText.escape(remoteId) + ")" : "");
    }
}
