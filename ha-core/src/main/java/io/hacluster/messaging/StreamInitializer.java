package io.hacluster.messaging;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Builds a streaming connection's pipeline: optional TLS (the seam), frame splitting with a size
 * limit, idle detection, then the protocol handler.
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
        SslContext tls = dialedPeer == null ? c.serverSslContext() : c.clientSslContext();
        if (tls != null) {
            ch.pipeline().addLast("tls", dialedAddress == null ? tls.newHandler(ch.alloc())
                    : tls.newHandler(ch.alloc(), dialedAddress.getHostString(), dialedAddress.getPort()));
        }
        FrameDecoder decoder = new FrameDecoder(c.maxFrameSize());
        long idleMs = c.idleTimeout().toMillis();
        ch.pipeline()
                .addLast("frames", decoder)
                .addLast("idle", new IdleStateHandler(idleMs, Math.max(1, idleMs / 3), 0, TimeUnit.MILLISECONDS))
                .addLast("stream", new StreamHandler(messenger, dialedPeer, decoder));
    }
}
