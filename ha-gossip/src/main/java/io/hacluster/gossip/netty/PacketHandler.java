package io.hacluster.gossip.netty;

import io.hacluster.gossip.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/** Hands each datagram to the inbound handler as a byte array; never throws on the event loop. */
final class PacketHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(PacketHandler.class);

    private final Supplier<Transport.Inbound> inbound;
    private final Counters counters;

    PacketHandler(Supplier<Transport.Inbound> inbound, Counters counters) {
        this.inbound = inbound;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        long receivedAt = System.nanoTime();
        try {
            if (!(msg instanceof DatagramPacket packet)) {
                counters.packetsDropped.increment();
                return;
            }
            Transport.Inbound target = inbound.get();
            ByteBuf content = packet.content();
            if (target == null || !content.isReadable()) {
                counters.packetsDropped.increment();
                log.debug("dropped a datagram from {}: {}", packet.sender(),
                        target == null ? "transport not started or closed" : "empty");
                return;
            }
            byte[] bytes = ByteBufUtil.getBytes(content);
            try {
                target.onPacket(packet.sender(), bytes, receivedAt);
                counters.packetsReceived.increment();
            } catch (RuntimeException | Error e) {
                counters.packetsDropped.increment();
                log.warn("inbound packet handler failed on a {}-byte datagram from {}",
                        bytes.length, packet.sender(), e);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A datagram socket stays usable after a failed read (e.g. an ICMP error surfaced by the
        // OS); closing it would take the node off the network, so count and carry on.
        counters.packetsDropped.increment();
        log.debug("datagram read failed", cause);
    }
}
