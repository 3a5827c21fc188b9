package io.hacluster.gossip.netty;

import io.hacluster.gossip.GossipConfig;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of one {@link NettyTransport}. Start from {@link #of(String, InetSocketAddress)} and
 * change single fields with the {@code with...} methods.
 *
 * @param nodeName the node's name; used only for thread names ({@code ha-<node>-gossip-io}) and logs
 * @param bindAddress where UDP and TCP listen, on the same port; port 0 picks a free port that
 *     is free for both protocols
 * @param advertiseAddress the address given to peers, or {@code null} to use the bind address
 *     (a wildcard bind host is then replaced by this host's address); a port of 0 means the bound port
 * @param maxPacketBytes the largest datagram received; larger ones are truncated by the OS and
 *     dropped. memberlist reads into a 65,536-byte buffer, whatever its UDPBufferSize
 * @param maxStreamBytes the largest stream message accepted, inbound or as a reply
 * @param maxInboundStreams inbound connections open at once; further ones are closed and counted
 *     (memberlist's maxPushPullRequests is 128)
 * @param inboundStreamTimeout how long an inbound connection may take to deliver its message and
 *     receive the reply; memberlist uses its TCPTimeout as the connection deadline
 * @param ioThreads Netty event loop threads (one is plenty for gossip)
 * @param preferNative use epoll when the native library loads; NIO otherwise or when false
 */
public record NettyTransportConfig(String nodeName, InetSocketAddress bindAddress,
                                   InetSocketAddress advertiseAddress, int maxPacketBytes,
                                   int maxStreamBytes, int maxInboundStreams,
                                   Duration inboundStreamTimeout, int ioThreads,
                                   boolean preferNative) {

    /** memberlist's receive buffer for one datagram (udpPacketBufSize). */
    public static final int DEFAULT_MAX_PACKET_BYTES = 65_536;

    /**
     * memberlist bounds push/pull state and user messages at 20 MiB; the extra 64 KiB leaves room
     * for the label, encryption and push/pull headers around a maximal body.
     */
    public static final int DEFAULT_MAX_STREAM_BYTES = 20 * 1024 * 1024 + 64 * 1024;

    /** memberlist's maxPushPullRequests. */
    public static final int DEFAULT_MAX_INBOUND_STREAMS = 128;

    /** memberlist's LAN TCPTimeout. */
    public static final Duration DEFAULT_INBOUND_STREAM_TIMEOUT = Duration.ofSeconds(10);

    public NettyTransportConfig {
        Objects.requireNonNull(nodeName, "nodeName");
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(inboundStreamTimeout, "inboundStreamTimeout");
        if (nodeName.isBlank()) {
            throw new IllegalArgumentException("nodeName is blank");
        }
        if (bindAddress.isUnresolved()) {
            throw new IllegalArgumentException("bindAddress is unresolved: " + bindAddress);
        }
        if (advertiseAddress != null && advertiseAddress.isUnresolved()) {
            throw new IllegalArgumentException("advertiseAddress is unresolved: " + advertiseAddress);
        }
        if (maxPacketBytes < 512 || maxPacketBytes > 65_536) {
            throw new IllegalArgumentException("maxPacketBytes must be in [512, 65536]: " + maxPacketBytes);
        }
        if (maxStreamBytes < 1024) {
            throw new IllegalArgumentException("maxStreamBytes must be at least 1024: " + maxStreamBytes);
        }
        if (maxInboundStreams < 1) {
            throw new IllegalArgumentException("maxInboundStreams must be positive: " + maxInboundStreams);
        }
        if (inboundStreamTimeout.isNegative() || inboundStreamTimeout.isZero()) {
            throw new IllegalArgumentException("inboundStreamTimeout must be positive");
        }
        if (ioThreads < 1) {
            throw new IllegalArgumentException("ioThreads must be positive: " + ioThreads);
        }
    }

    /** Defaults: memberlist's sizes and limits, LAN TCP timeout, one I/O thread, epoll if available. */
    public static NettyTransportConfig of(String nodeName, InetSocketAddress bindAddress) {
        return new NettyTransportConfig(nodeName, bindAddress, null, DEFAULT_MAX_PACKET_BYTES,
                DEFAULT_MAX_STREAM_BYTES, DEFAULT_MAX_INBOUND_STREAMS,
                DEFAULT_INBOUND_STREAM_TIMEOUT, 1, true);
    }

    /**
     * The transport settings a {@link GossipConfig} implies: its name, bind and advertise
     * addresses, and its TCP timeout as the inbound stream deadline; sizes and limits are
     * memberlist's defaults.
     *
     * @throws IllegalArgumentException when the bind or advertise host does not resolve
     */
    public static NettyTransportConfig from(GossipConfig gossip) {
        InetSocketAddress bind = resolve(gossip.bindHost(), gossip.bindPort(), "bindHost");
        InetSocketAddress advertise = gossip.advertiseHost() == null || gossip.advertiseHost().isBlank()
                ? null : resolve(gossip.advertiseHost(), gossip.advertisePort(), "advertiseHost");
        return of(gossip.name(), bind).withAdvertiseAddress(advertise)
                .withInboundStreamTimeout(gossip.tcpTimeout());
    }

    private static InetSocketAddress resolve(String host, int port, String what) {
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException(what + " '" + host + "' does not resolve");
        }
        return address;
    }

    public NettyTransportConfig withAdvertiseAddress(InetSocketAddress address) {
        return new NettyTransportConfig(nodeName, bindAddress, address, maxPacketBytes,
                maxStreamBytes, maxInboundStreams, inboundStreamTimeout, ioThreads, preferNative);
    }

    public NettyTransportConfig withMaxStreamBytes(int bytes) {
        return new NettyTransportConfig(nodeName, bindAddress, advertiseAddress, maxPacketBytes,
                bytes, maxInboundStreams, inboundStreamTimeout, ioThreads, preferNative);
    }

    public NettyTransportConfig withMaxInboundStreams(int streams) {
        return new NettyTransportConfig(nodeName, bindAddress, advertiseAddress, maxPacketBytes,
                maxStreamBytes, streams, inboundStreamTimeout, ioThreads, preferNative);
    }

    public NettyTransportConfig withInboundStreamTimeout(Duration timeout) {
        return new NettyTransportConfig(nodeName, bindAddress, advertiseAddress, maxPacketBytes,
                maxStreamBytes, maxInboundStreams, timeout, ioThreads, preferNative);
    }

    public NettyTransportConfig withPreferNative(boolean prefer) {
        return new NettyTransportConfig(nodeName, bindAddress, advertiseAddress, maxPacketBytes,
                maxStreamBytes, maxInboundStreams, inboundStreamTimeout, ioThreads, prefer);
    }
}
