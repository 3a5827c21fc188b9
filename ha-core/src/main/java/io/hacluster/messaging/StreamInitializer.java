package io.hacluster.messaging;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * Builds a streaming connection's pipeline: optional TLS (the seam), frame splitting with a size
 * limit, idle detection, then the protocol handler.
 */
final class StreamInitializer extends ChannelInitializer<SocketChannel> {

    private final Messenger messenger;
    /** The node this connection dials, or null for accepted connections. */
    private final String dialedPeer;

    StreamInitializer(Messenger messenger, String dialedPeer) {
        this.messenger = messenger;
        this.dialedPeer = dialedPeer;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        MessengerConfig c = messenger.config();
        SslContext tls = dialedPeer == null ? c.serverSslContext() : c.clientSslContext();
        if (tls != null) {
            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
        }
        FrameDecoder decoder = new FrameDecoder(c.maxFrameSize());
        long idleMs = c.idleTimeout().toMillis();
        ch.pipeline()
                .addLast("frames", decoder)
                .addLast("idle", new IdleStateHandler(idleMs, Math.max(1, idleMs / 3), 0, TimeUnit.MILLISECONDS))
                .addLast("stream", new StreamHandler(messenger, dialedPeer, decoder));
    }
}
