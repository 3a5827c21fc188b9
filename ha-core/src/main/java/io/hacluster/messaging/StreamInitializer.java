package io.hacluster.messaging;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Builds a streaming connection's pipeline: optional TLS, frame splitting with a size limit, idle
 * detection, then the protocol handler. An accepted connection beyond
 * {@link StreamSecurity#maxPendingHandshakes()} is reset here, counted, before anything is read.
 */
final class StreamInitializer extends ChannelInitializer<SocketChannel> {

    private final Messenger messenger;
    /** The node this connection dials, or null for accepted connections. */
    private final String dialedPeer;
    /** Where it dials (for TLS SNI and hostname verification), or null for accepted connections. */
    private final InetSocketAddress dialedAddress;

    StreamInitializer(Messenger messenger, String dialedPeer, InetSocketAddress dialedAddress) {
        this.messenger = messenger;
        this.dialedPeer = dialedPeer;
        this.dialedAddress = dialedAddress;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        MessengerConfig c = messenger.config();
        boolean accepted = dialedPeer == null;
        if (accepted && !messenger.admitHandshake()) {
            // too many connections already wait for their handshake: reset at once, before any TLS
            // work, so half-open floods hold neither descriptors nor memory
            messenger.counters().handshakeOverflows.increment();
            messenger.refusalLog.info("refused connection from {}: {} connections already await their handshake",
                    ch.remoteAddress(), c.security().maxPendingHandshakes());
            StreamHandler.reset(ch);
            return;
        }
        SslContext tls = accepted ? c.serverSslContext() : c.clientSslContext();
        if (tls != null) {
            SslHandler handler = dialedAddress == null ? tls.newHandler(ch.alloc())
                    : tls.newHandler(ch.alloc(), dialedAddress.getHostString(), dialedAddress.getPort());
            handler.setHandshakeTimeoutMillis(c.handshakeTimeout().toMillis());
            ch.pipeline().addLast("tls", handler);
        }
        FrameDecoder decoder = new FrameDecoder(c.maxFrameSize());
        long idleMs = c.idleTimeout().toMillis();
        ch.pipeline()
                .addLast("frames", decoder)
                .addLast("idle", new IdleStateHandler(idleMs, Math.max(1, idleMs / 3), 0, TimeUnit.MILLISECONDS))
                .addLast("stream", new StreamHandler(messenger, dialedPeer, dialedAddress, decoder, accepted));
    }
}
