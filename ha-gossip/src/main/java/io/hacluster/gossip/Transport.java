package io.hacluster.gossip;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Moves raw memberlist bytes between nodes. The state machine never touches sockets: it hands
 * finished packets and stream messages (label, CRC, compression and encryption already applied)
 * to a transport, and receives raw bytes back through {@link Inbound}.
 *
 * <p>Two implementations exist: {@code NettyTransport} (UDP for packets, one TCP connection per
 * stream exchange, as memberlist does) and {@code SimulatedNetwork}'s in-memory endpoints with
 * virtual time, seeded loss, delay and partitions.
 *
 * <p>A stream exchange is memberlist's TCP conversation reduced to what the protocol uses: the
 * initiator writes one message and, for push/pull and TCP ping, reads one message back.
 */
public interface Transport extends AutoCloseable {

    /** Starts delivering inbound traffic to {@code inbound}. Called once, before any send. */
    void start(Inbound inbound);

    /** The address this node advertises to peers (never a wildcard address). */
    InetSocketAddress advertiseAddress();

    /**
     * Sends one datagram, best effort. Never blocks and never throws for network conditions:
     * failures are counted and logged by the transport.
     */
    void sendPacket(InetSocketAddress to, byte[] packet);

    /**
     * Opens a stream to {@code to}, writes {@code request} and, when {@code expectReply}, reads
     * exactly one complete message back. The future fails on connect error, timeout, a reply
     * over the size bound, or an early close; it completes with {@code null} when no reply was
     * expected.
     */
    CompletableFuture<byte[]> exchange(InetSocketAddress to, byte[] request, boolean expectReply,
                                       Duration timeout);

    /**
     * Opens a TCP connection to {@code to} and closes it at once, without writing anything, and
     * reports what the attempt found: {@link ConnectOutcome#REFUSED} only when the remote kernel
     * actively refused it (evidence that the process is gone while its host is up; see
     * {@link ConnectOutcome}). Fault-injected blocks and anything this transport cannot classify
     * report {@link ConnectOutcome#TIMED_OUT}, which is never evidence of a crash. The future
     * never fails. The default is a transport that cannot tell: always {@code TIMED_OUT}.
     */
    default CompletableFuture<ConnectOutcome> probeConnect(InetSocketAddress to, Duration timeout) {
        return CompletableFuture.completedFuture(ConnectOutcome.TIMED_OUT);
    }

    /** Stops sending and receiving and releases sockets and threads. Idempotent. */
    @Override
    void close();

    /** Receives what arrives at this node. Implementations call it from their I/O threads. */
    interface Inbound {

        /** A datagram arrived. {@code receivedAtNanos} is the transport clock's time of arrival. */
        void onPacket(InetSocketAddress from, byte[] packet, long receivedAtNanos);

        /**
         * A complete stream message arrived. The returned future yields the reply to write back
         * before the stream is closed, or {@code null} to close without a reply.
         */
        CompletableFuture<byte[]> onStream(InetSocketAddress from, byte[] message);
    }
}
