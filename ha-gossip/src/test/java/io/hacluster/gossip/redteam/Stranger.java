package io.hacluster.gossip.redteam;

import io.hacluster.gossip.wire.Codec;
import io.hacluster.gossip.wire.Message;
import io.hacluster.gossip.wire.Packets;
import io.hacluster.gossip.wire.PushNodeState;
import io.hacluster.gossip.wire.PushPull;
import io.hacluster.gossip.wire.Streams;
import io.hacluster.gossip.wire.WireOptions;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;

/**
 * An attacker on loopback with no key: raw UDP datagrams and TCP streams in memberlist's
 * plaintext wire format, written with the wire package's encoders, aimed at a node's gossip port.
 */
final class Stranger implements AutoCloseable {

    static final byte[] LOOPBACK = {127, 0, 0, 1};
    static final byte[] VSN = {1, 5, 2, 0, 0, 0};
    static final int MAX_INCARNATION = 0xFFFF_FFFF; // 2^32-1 as the wire's uint32

    private final DatagramSocket udp;

    Stranger() throws IOException {
        udp = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    }

    /** One message as one plaintext datagram. */
    void send(InetSocketAddress to, Message m) throws IOException {
        byte[] packet = Packets.wrap(Codec.encode(m), false, WireOptions.DEFAULT);
        udp.send(new DatagramPacket(packet, packet.length, to));
    }

    void sendRaw(InetSocketAddress to, byte[] packet) throws IOException {
        udp.send(new DatagramPacket(packet, packet.length, to));
    }

    static Message.Dead dead(String victim) {
        return new Message.Dead(MAX_INCARNATION, victim, "stranger");
    }

    static Message.Dead dead(String victim, long incarnation) {
        return new Message.Dead((int) incarnation, victim, "stranger");
    }

    static Message.Alive alive(String node, InetSocketAddress at, byte[] meta, long incarnation) {
        return new Message.Alive((int) incarnation, node, at.getAddress().getAddress(), at.getPort(), meta, VSN);
    }

    /** RFC 1982 order on 32 bits, as the nodes compare incarnations. */
    static boolean newer(long a, long b) {
        long d = (a - b) & 0xFFFF_FFFFL;
        return d != 0 && d < (1L << 31);
    }

    static Message.Suspect suspect(String victim) {
        return new Message.Suspect(MAX_INCARNATION, victim, "stranger");
    }

    /** An alive at the maximum incarnation for {@code node}, with the given address and meta. */
    static Message.Alive alive(String node, InetSocketAddress at, byte[] meta) {
        return new Message.Alive(MAX_INCARNATION, node, at.getAddress().getAddress(), at.getPort(), meta, VSN);
    }

    /**
     * A plaintext push/pull (join) carrying {@code states}; returns every byte the node answered
     * before closing or before {@code timeoutMillis} of silence.
     */
    static byte[] pushPull(InetSocketAddress to, List<PushNodeState> states, int timeoutMillis) throws IOException {
        byte[] stream = Streams.wrap(Codec.encodePushPull(new PushPull(true, states, new byte[0])), WireOptions.DEFAULT);
        try (Socket s = new Socket()) {
            s.connect(to, timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            s.getOutputStream().write(stream);
            s.getOutputStream().flush();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    answer.write(buf, 0, n);
                }
            } catch (SocketTimeoutException | java.net.SocketException e) {
                // silence or a reset: what arrived so far is the answer
            }
            return answer.toByteArray();
        }
    }

    @Override
    public void close() {
        udp.close();
    }
}
