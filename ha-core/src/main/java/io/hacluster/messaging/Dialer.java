package io.hacluster.messaging;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the connections this node is responsible for (to peers whose id sorts higher), and
 * reopens them with jittered exponential backoff while the peer is alive or suspect, not cut, and
 * the messenger runs. At most one dial or scheduled redial per peer exists at any time.
 */
final class Dialer {

    private static final Logger log = LoggerFactory.getLogger(Dialer.class);

    private final Messenger messenger;
    private final MessengerConfig config;
    private final ScheduledExecutorService timer;
    private volatile EventLoopGroup io;

    Dialer(Messenger messenger, MessengerConfig config, ScheduledExecutorService timer) {
        this.messenger = messenger;
        this.config = config;
        this.timer = timer;
    }

    /** Dialing is possible from now on. */
    void start(EventLoopGroup group) {
        io = group;
    }

    /** Whether {@code p} should be dialed now. Caller holds the lock of {@code p}. */
    private boolean wanted(PeerLink p) {
        // a closing node does not redial: its peers would only refuse it once they see it leave
        return io != null && !messenger.isClosed() && !messenger.isDraining() && p.weDial && p.channel == null && !p.dialing
                && p.reconnect == null && p.state.dialable() && !p.departing && p.address != null
                && !messenger.isCut(p.nodeId);
    }

    /** Connects to {@code p} now, unless connected, connecting, waiting to redial, or not wanted. */
    void dial(PeerLink p) {
        InetSocketAddress address;
        synchronized (p) {
            if (!wanted(p)) {
                return;
            }
            p.dialing = true;
            address = p.address;
        }
        Bootstrap b = new Bootstrap()
                .group(io)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(config.writeBufferLowWater(), config.writeBufferHighWater()))
                .handler(new StreamInitializer(messenger, p.nodeId, address));
        if (!config.bindAddress().getAddress().isAnyLocalAddress()) {
            // dial from the bound address, the one gossip advertises: the acceptor's address check expects it
            b.localAddress(new InetSocketAddress(config.bindAddress().getAddress(), 0));
        }
        try {
            b.connect(address).addListener(done -> {
                if (!done.isSuccess()) {
                    log.debug("dial {} at {} failed: {}", p.nodeId, address, done.cause().toString());
                    failed(p);
                }
            });
        } catch (RuntimeException e) {
            log.debug("dial {} failed", p.nodeId, e);
            failed(p);
        }
    }

    /** A dial to {@code p} failed before its handshake completed: back off and retry. */
    void failed(PeerLink p) {
        synchronized (p) {
            p.dialing = false;
            p.failedDials++;
        }
        scheduleRedial(p);
    }

    /** Schedules the next dial to {@code p} after the backoff its failures earned, if wanted. */
    void scheduleRedial(PeerLink p) {
        long delayMs;
        synchronized (p) {
            if (!wanted(p)) {
                return;
            }
            long min = config.reconnectBackoffMin().toMillis();
            long max = config.reconnectBackoffMax().toMillis();
            long base = Math.min(max, min << Math.min(p.failedDials, 20));
            delayMs = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
            try {
                p.reconnect = timer.schedule(() -> {
                    synchronized (p) {
                        p.reconnect = null;
                    }
                    dial(p);
                }, delayMs, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                return; // closing
            }
        }
        log.debug("redialing {} in {} ms", p.nodeId, delayMs);
    }
}
