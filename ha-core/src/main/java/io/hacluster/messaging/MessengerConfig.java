package io.hacluster.messaging;

import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link Messenger}. Build with {@link #builder(String, String)}; every limit has a
 * default suited to a LAN cluster.
 *
 * @param nodeId                  this node's id (Mattermost's 26-character id); ids order the dial direction
 * @param clusterName             peers with another cluster name are refused at the handshake
 * @param bindAddress             StreamingPort address to listen on; port 0 picks a free port
 * @param maxFrameSize            largest frame on the wire and largest uncompressed message, bytes
 * @param compressionEnabled      deflate message bodies larger than {@code compressionThreshold}
 * @param compressionThreshold    bodies up to this many bytes are never compressed
 * @param maxPendingPerPeer       queued plus unacknowledged messages per peer before sends fail
 * @param maxPendingBytesPerPeer  the same bound in encoded bytes
 * @param inboundHighWater        messages waiting for a sender's handlers before reading from
 *                                that sender's connection pauses (TCP back-pressure)
 * @param handlerThreads          size of the handler pool ({@code ha-<node>-handler-N})
 * @param ioThreads               Netty event loop threads ({@code ha-<node>-stream-io-N})
 * @param connectTimeout          TCP connect timeout when dialing
 * @param handshakeTimeout        a connection that has not completed the handshake by then is closed
 * @param idleTimeout             a connection that received nothing for this long is closed; pings
 *                                are sent after a third of it without writes
 * @param writeStallTimeout       a connection whose write buffer stays above the high-water mark
 *                                for this long is closed (a peer that does not read)
 * @param writeBufferLowWater     Netty write-buffer low-water mark, bytes
 * @param writeBufferHighWater    Netty write-buffer high-water mark, bytes
 * @param reconnectBackoffMin     first reconnect delay; doubles per failure
 * @param reconnectBackoffMax     reconnect delay cap
 * @param sendTimeout             deadline of every reliable send, request and gather: no future
 *                                returned by the messenger stays pending longer, whatever peers do
 *                                (a request's own timeout is capped at it)
 * @param drainTimeout            how long {@link Messenger#close()} waits for handlers that have
 *                                messages to finish and for their acknowledgements (and this node's
 *                                own unacknowledged messages) to go out before it closes connections
 * @param serverSslContext        TLS for accepted connections, or null for plain TCP (seam, see docs)
 * @param clientSslContext        TLS for dialed connections, or null for plain TCP
 * @param security                who may connect: certificate binding, keyed HELLO, membership
 *                                and address checks, cap on pending handshakes
 */
public record MessengerConfig(
        String nodeId,
        String clusterName,
        InetSocketAddress bindAddress,
        int maxFrameSize,
        boolean compressionEnabled,
        int compressionThreshold,
        int maxPendingPerPeer,
        long maxPendingBytesPerPeer,
        int inboundHighWater,
        int handlerThreads,
        int ioThreads,
        Duration connectTimeout,
        Duration handshakeTimeout,
        Duration idleTimeout,
        Duration writeStallTimeout,
        int writeBufferLowWater,
        int writeBufferHighWater,
        Duration reconnectBackoffMin,
        Duration reconnectBackoffMax,
        Duration sendTimeout,
        Duration drainTimeout,
        SslContext serverSslContext,
        SslContext clientSslContext,
        StreamSecurity security) {

    /** Smallest allowed {@link #maxFrameSize()}: room for a handshake and small messages. */
    public static final int MIN_FRAME_SIZE = 4096;

    public MessengerConfig {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(clusterName, "clusterName");
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(security, "security");
        if (nodeId.isEmpty() || nodeId.length() > 256) {
            throw new IllegalArgumentException("nodeId must have 1..256 characters");
        }
        if (clusterName.length() > 256) {
            throw new IllegalArgumentException("clusterName must have at most 256 characters");
        }
        requireAtLeast("maxFrameSize", maxFrameSize, MIN_FRAME_SIZE);
        requireAtLeast("compressionThreshold", compressionThreshold, 0);
        requireAtLeast("maxPendingPerPeer", maxPendingPerPeer, 1);
        requireAtLeast("maxPendingBytesPerPeer", maxPendingBytesPerPeer, maxFrameSize);
        requireAtLeast("inboundHighWater", inboundHighWater, 2);
        requireAtLeast("handlerThreads", handlerThreads, 1);
        requireAtLeast("ioThreads", ioThreads, 1);
        requireAtLeast("writeBufferLowWater", writeBufferLowWater, 1);
        requireAtLeast("writeBufferHighWater", writeBufferHighWater, writeBufferLowWater);
        for (Duration d : new Duration[] {connectTimeout, handshakeTimeout, idleTimeout, writeStallTimeout,
                reconnectBackoffMin, reconnectBackoffMax, sendTimeout}) {
            Objects.requireNonNull(d, "durations must not be null");
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("durations must be positive: " + d);
            }
        }
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        if (drainTimeout.isNegative()) {
            throw new IllegalArgumentException("drainTimeout must not be negative: " + drainTimeout);
        }
        if (reconnectBackoffMax.compareTo(reconnectBackoffMin) < 0) {
            throw new IllegalArgumentException("reconnectBackoffMax < reconnectBackoffMin");
        }
    }

    private static void requireAtLeast(String name, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be >= " + min + " but was " + value);
        }
    }

    /** A builder with defaults, listening on 0.0.0.0:8075 (Mattermost's StreamingPort). */
    public static Builder builder(String nodeId, String clusterName) {
        return new Builder(nodeId, clusterName);
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Fluent builder; see the record components for meanings. */
    public static final class Builder {
        private String nodeId;
        private String clusterName;
        private InetSocketAddress bindAddress = new InetSocketAddress(8075);
        private int maxFrameSize = 16 * 1024 * 1024;
        private boolean compressionEnabled = true;
        private int compressionThreshold = 1024;
        private int maxPendingPerPeer = 10_000;
        private long maxPendingBytesPerPeer = 64L * 1024 * 1024;
        private int inboundHighWater = 10_000;
        private int handlerThreads = 4;
        private int ioThreads = 2;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration handshakeTimeout = Duration.ofSeconds(5);
        private Duration idleTimeout = Duration.ofSeconds(15);
        private Duration writeStallTimeout = Duration.ofSeconds(10);
        private int writeBufferLowWater = 256 * 1024;
        private int writeBufferHighWater = 1024 * 1024;
        private Duration reconnectBackoffMin = Duration.ofMillis(50);
        private Duration reconnectBackoffMax = Duration.ofSeconds(2);
        private Duration sendTimeout = Duration.ofSeconds(30);
        private Duration drainTimeout = Duration.ofSeconds(5);
        private SslContext serverSslContext;
        private SslContext clientSslContext;
        private StreamSecurity security = StreamSecurity.permissive();

        private Builder(String nodeId, String clusterName) {
            this.nodeId = nodeId;
            this.clusterName = clusterName;
        }

        private Builder(MessengerConfig c) {
            nodeId = c.nodeId;
            clusterName = c.clusterName;
            bindAddress = c.bindAddress;
            maxFrameSize = c.maxFrameSize;
            compressionEnabled = c.compressionEnabled;
            compressionThreshold = c.compressionThreshold;
            maxPendingPerPeer = c.maxPendingPerPeer;
            maxPendingBytesPerPeer = c.maxPendingBytesPerPeer;
            inboundHighWater = c.inboundHighWater;
            handlerThreads = c.handlerThreads;
            ioThreads = c.ioThreads;
            connectTimeout = c.connectTimeout;
            handshakeTimeout = c.handshakeTimeout;
            idleTimeout = c.idleTimeout;
            writeStallTimeout = c.writeStallTimeout;
            writeBufferLowWater = c.writeBufferLowWater;
            writeBufferHighWater = c.writeBufferHighWater;
            reconnectBackoffMin = c.reconnectBackoffMin;
            reconnectBackoffMax = c.reconnectBackoffMax;
            sendTimeout = c.sendTimeout;
            drainTimeout = c.drainTimeout;
            serverSslContext = c.serverSslContext;
            clientSslContext = c.clientSslContext;
            security = c.security;
        }

        public Builder nodeId(String v) { nodeId = v; return this; }
        public Builder clusterName(String v) { clusterName = v; return this; }
        public Builder bindAddress(InetSocketAddress v) { bindAddress = v; return this; }
        public Builder maxFrameSize(int v) { maxFrameSize = v; return this; }
        public Builder compressionEnabled(boolean v) { compressionEnabled = v; return this; }
        public Builder compressionThreshold(int v) { compressionThreshold = v; return this; }
        public Builder maxPendingPerPeer(int v) { maxPendingPerPeer = v; return this; }
        public Builder maxPendingBytesPerPeer(long v) { maxPendingBytesPerPeer = v; return this; }
        public Builder inboundHighWater(int v) { inboundHighWater = v; return this; }
        public Builder handlerThreads(int v) { handlerThreads = v; return this; }
        public Builder ioThreads(int v) { ioThreads = v; return this; }
        public Builder connectTimeout(Duration v) { connectTimeout = v; return this; }
        public Builder handshakeTimeout(Duration v) { handshakeTimeout = v; return this; }
        public Builder idleTimeout(Duration v) { idleTimeout = v; return this; }
        public Builder writeStallTimeout(Duration v) { writeStallTimeout = v; return this; }
        public Builder writeBufferWaterMarks(int low, int high) {
            writeBufferLowWater = low;
            writeBufferHighWater = high;
            return this;
        }
        public Builder reconnectBackoff(Duration min, Duration max) {
            reconnectBackoffMin = min;
            reconnectBackoffMax = max;
            return this;
        }
        public Builder sendTimeout(Duration v) { sendTimeout = v; return this; }
        public Builder drainTimeout(Duration v) { drainTimeout = v; return this; }
        /** TLS seam: both contexts, or neither. */
        public Builder tls(SslContext server, SslContext client) {
            serverSslContext = server;
            clientSslContext = client;
            return this;
        }

        /** Who may connect; see {@link StreamSecurity}. */
        public Builder security(StreamSecurity v) { security = v; return this; }

        public MessengerConfig build() {
            return new MessengerConfig(nodeId, clusterName, bindAddress, maxFrameSize, compressionEnabled,
                    compressionThreshold, maxPendingPerPeer, maxPendingBytesPerPeer, inboundHighWater,
                    handlerThreads, ioThreads, connectTimeout, handshakeTimeout, idleTimeout, writeStallTimeout,
                    writeBufferLowWater, writeBufferHighWater, reconnectBackoffMin, reconnectBackoffMax,
                    sendTimeout, drainTimeout, serverSslContext, clientSslContext, security);
        }
    }
}
