package io.hacluster.gossip.netty;

import io.hacluster.gossip.ConnectOutcome;
import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.Transport;
import io.hacluster.gossip.wire.WireLimits;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.Collections;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The real network {@link Transport}: one UDP socket for packets and a TCP listener on the same
 * port for streams, as memberlist's NetTransport. Each {@link #exchange} dials a new TCP
 * connection, writes one message, optionally reads one reply and closes, which is what a Go
 * memberlist peer expects.
 *
 * <p>Uses epoll when its native library loads (Linux x86_64 with
 * {@code netty-transport-native-epoll} on the class path), NIO otherwise. All I/O runs on daemon
 * threads named {@code ha-<node>-gossip-io}. Inbound traffic reaches the {@link Inbound} on those
 * threads, and {@link #exchange} futures complete on them: callers must hop to their own thread
 * and must not block in callbacks.
 *
 * <p>Input is treated as hostile: datagrams and stream messages are size-bounded, at most
 * {@link NettyTransportConfig#maxInboundStreams()} inbound streams are open at once, every
 * inbound conversation has a deadline, and every drop or failure is counted in {@link #stats()}.
 * Nothing is thrown on an event loop.
 */
public final class NettyTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(NettyTransport.class);

    /** How often a port-0 bind retries when the free TCP port is taken for UDP. */
    private static final int PORT_ZERO_ATTEMPTS = 32;
    /** memberlist asks the OS for a 2 MiB UDP receive buffer (udpRecvBuf). */
    private static final int UDP_RECEIVE_BUFFER = 2 * 1024 * 1024;
    private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(3);

    private final NettyTransportConfig config;
    private final Supplier<MessageBoundary> boundaries;
    private final boolean nativeTransport;
    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> clientChannelType;
    private final Counters counters = new Counters();
    private final StreamSlots slots;
    private final ChannelGroup channels;
    private final AtomicReference<Inbound> inbound = new AtomicReference<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final InetSocketAddress boundAddress;
    private final InetSocketAddress advertiseAddress;
    private volatile Channel udp;
    private volatile Channel tcp;

    private NettyTransport(NettyTransportConfig config, Supplier<MessageBoundary> boundaries) {
        this.config = config;
        this.boundaries = boundaries;
        this.nativeTransport = config.preferNative() && Epoll.isAvailable();
        IoHandlerFactory ioHandler = nativeTransport ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.group = new MultiThreadIoEventLoopGroup(config.ioThreads(),
                new IoThreadFactory(config.nodeName(), config.ioThreads()), ioHandler);
        this.clientChannelType = nativeTransport ? EpollSocketChannel.class : NioSocketChannel.class;
        this.slots = new StreamSlots(config.maxInboundStreams());
        // The group notifies on our own event loop: Netty's GlobalEventExecutor would start an
        // unnamed thread of its own.
        this.channels = new DefaultChannelGroup("ha-" + config.nodeName() + "-gossip", group.next());
        try {
            this.boundAddress = bindBoth();
            this.advertiseAddress = advertise(config.advertiseAddress(), boundAddress);
        } catch (IOException | RuntimeException e) {
            close();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
        log.debug("node {} bound gossip UDP+TCP on {} ({}), advertising {}", config.nodeName(),
                boundAddress, nativeTransport ? "epoll" : "nio", advertiseAddress);
    }

    /**
     * Binds UDP and TCP on {@code config.bindAddress()} now, so the bound port and the advertised
     * address are known before {@link #start}. Nothing is read before {@code start}: datagrams
     * wait in the socket buffer and connections in the backlog until then.
     *
     * @throws UncheckedIOException when either socket cannot be bound
     */
    public static NettyTransport bind(NettyTransportConfig config) {
        return new NettyTransport(config, () -> new MemberlistStreamBoundary(WireLimits.DEFAULT));
    }

    /** Binds with the settings {@code config} implies ({@link NettyTransportConfig#from}). */
    public static NettyTransport bind(GossipConfig config) {
        return bind(NettyTransportConfig.from(config));
    }

    /** Binds with another stream boundary, one instance per stream (tests of the transport alone). */
    static NettyTransport bind(NettyTransportConfig config, Supplier<MessageBoundary> boundaries) {
        return new NettyTransport(config, Objects.requireNonNull(boundaries, "boundaries"));
    }

    @Override
    public void start(Inbound handler) {
        Objects.requireNonNull(handler, "inbound");
        if (closed.get()) {
            throw new IllegalStateException("transport is closed");
        }
        if (!inbound.compareAndSet(null, handler)) {
            throw new IllegalStateException("transport already started");
        }
        udp.config().setAutoRead(true);
        udp.read();
        tcp.config().setAutoRead(true);
        tcp.read();
    }

    @Override
    public InetSocketAddress advertiseAddress() {
        return advertiseAddress;
    }

    /** The local address both sockets are bound to (the real port when the configured one was 0). */
    public InetSocketAddress boundAddress() {
        return boundAddress;
    }

    /** Whether the epoll transport is in use (false means NIO). */
    public boolean isNative() {
        return nativeTransport;
    }

    /** A snapshot of the drop, error and traffic counters. */
    public TransportStats stats() {
        return counters.snapshot();
    }

    @Override
    public void sendPacket(InetSocketAddress to, byte[] packet) {
        Channel channel = udp;
        if (closed.get() || channel == null || to == null || packet == null || to.isUnresolved()) {
            counters.packetSendErrors.increment();
            log.debug("not sending a datagram to {}: {}", to, closed.get() ? "transport closed" : "bad address or packet");
            return;
        }
        try {
            channel.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(packet), to))
                    .addListener((ChannelFutureListener) sent -> {
                        if (sent.isSuccess()) {
                            counters.packetsSent.increment();
                        } else {
                            counters.packetSendErrors.increment();
                            log.debug("sending a {}-byte datagram to {} failed", packet.length, to, sent.cause());
                        }
                    });
        } catch (RuntimeException e) {
            counters.packetSendErrors.increment();
            log.debug("sending a datagram to {} failed", to, e);
        }
    }

    @Override
    public CompletableFuture<byte[]> exchange(InetSocketAddress to, byte[] request, boolean expectReply,
                                              Duration timeout) {
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(timeout, "timeout");
        counters.exchangesStarted.increment();
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        result.whenComplete((reply, error) -> {
            if (error != null) {
                counters.exchangesFailed.increment();
            }
        });
        if (closed.get()) {
            result.completeExceptionally(new IOException("transport is closed"));
            return result;
        }
        if (to.isUnresolved()) {
            result.completeExceptionally(new IOException("unresolved address " + to));
            return result;
        }
        long timeoutMillis = Math.max(1, timeout.toMillis());
        try {
            Bootstrap bootstrap = new Bootstrap()
                    .group(group)
                    .channel(clientChannelType)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new ExchangeHandler(request, expectReply, result, boundaries.get(), config.maxStreamBytes()));
            ChannelFuture connect = bootstrap.connect(to);
            Channel channel = connect.channel();
            channels.add(channel);
            ScheduledFuture<?> deadline = channel.eventLoop().schedule(() -> {
                if (result.completeExceptionally(new TimeoutException(
                        "stream exchange with " + to + " did not finish within " + timeout))) {
                    channel.close();
                }
            }, timeoutMillis, TimeUnit.MILLISECONDS);
            connect.addListener((ChannelFutureListener) connected -> {
                if (!connected.isSuccess()) {
                    result.completeExceptionally(new IOException("connecting to " + to + " failed", connected.cause()));
                }
            });
            result.whenComplete((reply, error) -> {
                deadline.cancel(false);
                channel.close();
            });
        } catch (RuntimeException e) {
            result.completeExceptionally(new IOException("stream exchange with " + to + " failed", e));
        }
        return result;
    }

    /**
     * Connects to {@code to} and closes at once without writing; see {@link ConnectOutcomes} for
     * how a failure is classified. Counted in {@link TransportStats} as nothing: it carries no
     * memberlist traffic.
     */
    @Override
    public CompletableFuture<ConnectOutcome> probeConnect(InetSocketAddress to, Duration timeout) {
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(timeout, "timeout");
        CompletableFuture<ConnectOutcome> result = new CompletableFuture<>();
        if (closed.get() || to.isUnresolved()) {
            result.complete(ConnectOutcome.TIMED_OUT);
            return result;
        }
        try {
            ChannelFuture connect = new Bootstrap()
                    .group(group)
                    .channel(clientChannelType)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                            Math.max(1, timeout.toMillis())))
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(to);
            channels.add(connect.channel());
            connect.addListener((ChannelFutureListener) done -> {
                if (done.isSuccess()) {
                    result.complete(ConnectOutcome.ACCEPTED);
                    done.channel().close();
                } else {
                    result.complete(ConnectOutcomes.classify(done.cause()));
                    log.debug("probe connect to {}: {}", to, done.cause().toString());
                }
            });
        } catch (RuntimeException e) {
            result.complete(ConnectOutcome.TIMED_OUT);
        }
        return result;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        inbound.set(null);
        // Waiting for the event loop from the event loop itself would deadlock (Netty throws);
        // from there, close asynchronously.
        boolean onIoThread = false;
        for (EventExecutor executor : group) {
            onIoThread |= executor.inEventLoop();
        }
        long waitMillis = onIoThread ? 0 : SHUTDOWN_WAIT.toMillis();
        try {
            if (udp != null) {
                awaitQuietly(udp.close(), waitMillis);
            }
            if (tcp != null) {
                awaitQuietly(tcp.close(), waitMillis);
            }
            awaitQuietly(channels.close(), waitMillis);
        } finally {
            awaitQuietly(group.shutdownGracefully(0, SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS),
                    waitMillis * 2);
        }
        log.debug("node {} closed its gossip transport on {}", config.nodeName(), boundAddress);
    }

    private static void awaitQuietly(Future<?> future, long millis) {
        if (millis > 0) {
            future.awaitUninterruptibly(millis);
        }
    }

    @Override
    public String toString() {
        return "NettyTransport[" + config.nodeName() + " " + boundAddress + (nativeTransport ? " epoll" : " nio") + "]";
    }

    /**
     * Binds TCP first (port 0 lets the OS pick), then UDP on the port TCP got. With port 0 a clash
     * on the UDP side closes TCP and tries another free port.
     */
    private InetSocketAddress bindBoth() throws IOException {
        InetSocketAddress requested = config.bindAddress();
        int attempts = requested.getPort() == 0 ? PORT_ZERO_ATTEMPTS : 1;
        IOException last = null;
        for (int attempt = 0; attempt < attempts; attempt++) {
            Channel server = bindTcp(requested);
            InetSocketAddress serverAddress = (InetSocketAddress) server.localAddress();
            try {
                Channel datagram = bindUdp(new InetSocketAddress(requested.getAddress(), serverAddress.getPort()));
                tcp = server;
                udp = datagram;
                return serverAddress;
            } catch (IOException e) {
                last = e;
                server.close().awaitUninterruptibly(SHUTDOWN_WAIT.toMillis());
                log.debug("UDP port {} taken, {}", serverAddress.getPort(),
                        attempts > 1 ? "trying another free port" : "giving up");
            }
        }
        throw last;
    }

    private Channel bindTcp(InetSocketAddress address) throws IOException {
        Class<? extends ServerChannel> type = nativeTransport ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(type)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 256)
                .option(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channels.add(channel);
                        channel.pipeline().addLast(new InboundStreamHandler(inbound::get, counters, slots,
                                boundaries.get(), config.maxStreamBytes(), config.inboundStreamTimeout()));
                    }
                });
        return awaitBind(bootstrap.bind(address), "TCP", address);
    }

    private Channel bindUdp(InetSocketAddress address) throws IOException {
        Class<? extends DatagramChannel> type = nativeTransport ? EpollDatagramChannel.class : NioDatagramChannel.class;
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(type)
                .option(ChannelOption.SO_RCVBUF, UDP_RECEIVE_BUFFER)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(config.maxPacketBytes()))
                .option(ChannelOption.AUTO_READ, false)
                .handler(new PacketHandler(inbound::get, counters));
        return awaitBind(bootstrap.bind(address), "UDP", address);
    }

    private static Channel awaitBind(ChannelFuture bind, String protocol, InetSocketAddress address) throws IOException {
        bind.awaitUninterruptibly();
        if (!bind.isSuccess()) {
            bind.channel().close();
            throw new IOException("cannot bind " + protocol + " on " + address, bind.cause());
        }
        return bind.channel();
    }

    private static InetSocketAddress advertise(InetSocketAddress configured, InetSocketAddress bound) throws SocketException {
        if (configured != null) {
            int port = configured.getPort() == 0 ? bound.getPort() : configured.getPort();
            if (configured.getAddress().isAnyLocalAddress()) {
                throw new IllegalArgumentException("advertise address must not be a wildcard: " + configured);
            }
            return new InetSocketAddress(configured.getAddress(), port);
        }
        if (!bound.getAddress().isAnyLocalAddress()) {
            return bound;
        }
        return new InetSocketAddress(firstSiteAddress(), bound.getPort());
    }

    /** memberlist advertises a private IPv4 address when bound to the wildcard; so do we. */
    private static InetAddress firstSiteAddress() throws SocketException {
        InetAddress fallback = null;
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (address instanceof Inet4Address && !address.isLinkLocalAddress()) {
                    if (address.isSiteLocalAddress()) {
                        return address;
                    }
                    if (fallback == null) {
                        fallback = address;
                    }
                }
            }
        }
        return fallback != null ? fallback : InetAddress.getLoopbackAddress();
    }
}
