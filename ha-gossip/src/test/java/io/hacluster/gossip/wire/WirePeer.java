package io.hacluster.gossip.wire;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The smallest memberlist peer that can be built from the wire package alone, for interop tests:
 * it answers push/pull streams with its own node state, stream pings with acks, UDP pings with
 * acks, and records everything it decoded. Anything malformed is recorded, not thrown.
 */
final class WirePeer implements AutoCloseable {

    static final byte[] VSN = {1, 5, 2, 2, 5, 4};

    /**
     * User state sent with every push/pull: 300 bytes, so its length needs a two-byte int
     * (go-msgpack v2 form {@code d1 01 2c}, which serf's older decoder must accept); the first
     * byte 0xEE is not a serf message type, so serf logs it by value, proving the bytes lined up.
     */
    static final byte[] USER_STATE = userState();

    private static byte[] userState() {
        byte[] s = new byte[300];
        Arrays.fill(s, (byte) 0x55);
        s[0] = (byte) 0xEE;
        return s;
    }

    final String name;
    final byte[] meta;
    final WireOptions options;
    private final ServerSocket tcp;
    private final DatagramSocket udp;
    private final Thread tcpThread;
    private final Thread udpThread;
    private volatile boolean closed;

    final ConcurrentLinkedQueue<PushPull> pushPullsReceived = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Integer> streamFirstBytes = new ConcurrentLinkedQueue<>();
    final Map<MessageType, AtomicInteger> packetMessages = new ConcurrentHashMap<>();
    final AtomicInteger packetsWithCrc = new AtomicInteger();
    final AtomicInteger pingsAcked = new AtomicInteger();
    final ConcurrentLinkedQueue<String> malformed = new ConcurrentLinkedQueue<>();
    /** Packet messages of these types whose re-encoding by {@link Codec} equals the sender's bytes. */
    final Map<MessageType, AtomicInteger> reencodedIdentically = new ConcurrentHashMap<>();
    /** Packet messages whose re-encoding differs from the sender's bytes, as hex. */
    final ConcurrentLinkedQueue<String> reencodingMismatches = new ConcurrentLinkedQueue<>();

    WirePeer(String name, byte[] meta, WireOptions options) throws IOException {
        this.name = name;
        this.meta = meta;
        this.options = options;
        InetAddress lo = InetAddress.getLoopbackAddress();
        ServerSocket s = null;
        DatagramSocket d = null;
        for (int attempt = 0; attempt < 50 && d == null; attempt++) {
            s = new ServerSocket(0, 50, lo);
            try {
                d = new DatagramSocket(new InetSocketAddress(lo, s.getLocalPort()));
            } catch (SocketException busy) {
                s.close();
            }
        }
        if (d == null) {
            throw new IOException("no port free for both TCP and UDP");
        }
        this.tcp = s;
        this.udp = d;
        tcpThread = new Thread(this::acceptLoop, "ha-" + name + "-interop-tcp");
        udpThread = new Thread(this::packetLoop, "ha-" + name + "-interop-udp");
        tcpThread.setDaemon(true);
        udpThread.setDaemon(true);
        tcpThread.start();
        udpThread.start();
    }

    int port() {
        return tcp.getLocalPort();
    }

    PushNodeState selfState() {
        return new PushNodeState(name, new byte[] {127, 0, 0, 1}, port(), meta, 1,
                PushNodeState.STATE_ALIVE, VSN);
    }

    private void acceptLoop() {
        while (!closed) {
            try (Socket conn = tcp.accept()) {
                conn.setSoTimeout(5000);
                byte[] frame = readFrame(conn.getInputStream(), options.limits());
                byte[] message = Streams.unwrap(frame, options);
                streamFirstBytes.add(frame[0] & 0xFF);
                switch (Codec.typeOf(message)) {
                    case PUSH_PULL -> {
                        pushPullsReceived.add(Codec.decodePushPull(message, options.limits()));
                        PushPull reply = new PushPull(false, List.of(selfState()), USER_STATE);
                        conn.getOutputStream().write(Streams.wrap(Codec.encodePushPull(reply), options));
                    }
                    case PING -> {
                        Message.Ping ping = (Message.Ping) Codec.decode(message, options.limits());
                        byte[] ack = Codec.encode(new Message.Ack(ping.seqNo(), null));
                        conn.getOutputStream().write(Streams.wrap(ack, options));
                    }
                    case USER -> Codec.decodeUserStream(message, options.limits());
                    default -> malformed.add("unexpected stream message type " + Codec.typeOf(message));
                }
            } catch (MalformedMessageException e) {
                malformed.add("stream: " + e.reason() + " " + e.getMessage());
            } catch (IOException e) {
                if (!closed) {
                    malformed.add("stream I/O: " + e);
                }
            }
        }
    }

    /** Reads one complete stream message, using only StreamFraming to know where it ends. */
    static byte[] readFrame(InputStream in, WireLimits limits) throws IOException, MalformedMessageException {
        StreamFraming framing = new StreamFraming(limits);
        byte[] buf = new byte[4096];
        int size = 0;
        while (true) {
            int n = framing.frameLength(buf, size);
            if (n != StreamFraming.NEED_MORE) {
                return Arrays.copyOf(buf, n);
            }
            if (size == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
            int r = in.read(buf, size, buf.length - size);
            if (r < 0) {
                throw new IOException("stream closed after " + size + " bytes, message incomplete");
            }
            size += r;
        }
    }

    private void packetLoop() {
        byte[] buf = new byte[65536];
        while (!closed) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                udp.receive(p);
                UnwrappedPacket unwrapped = Packets.unwrap(
                        Arrays.copyOfRange(p.getData(), p.getOffset(), p.getOffset() + p.getLength()), options);
                if (unwrapped.hadCrc()) {
                    packetsWithCrc.incrementAndGet();
                }
                for (byte[] m : unwrapped.messages()) {
                    Message msg = Codec.decode(m, options.limits());
                    packetMessages.computeIfAbsent(msg.type(), t -> new AtomicInteger()).incrementAndGet();
                    if (Arrays.equals(Codec.encode(msg), m)) {
                        reencodedIdentically.computeIfAbsent(msg.type(), t -> new AtomicInteger()).incrementAndGet();
                    } else {
                        reencodingMismatches.add(Hex.hex(m) + " vs ours " + Hex.hex(Codec.encode(msg)));
                    }
                    if (msg instanceof Message.Ping ping) {
                        InetSocketAddress to = ping.sourceAddr().length > 0 && ping.sourcePort() > 0
                                ? new InetSocketAddress(InetAddress.getByAddress(ping.sourceAddr()), ping.sourcePort())
                                : (InetSocketAddress) p.getSocketAddress();
                        byte[] ack = Packets.wrap(Codec.encode(new Message.Ack(ping.seqNo(), null)), true, options);
                        udp.send(new DatagramPacket(ack, ack.length, to));
                        pingsAcked.incrementAndGet();
                    }
                }
            } catch (MalformedMessageException e) {
                malformed.add("packet: " + e.reason() + " " + e.getMessage());
            } catch (IOException e) {
                if (!closed) {
                    malformed.add("packet I/O: " + e);
                }
            }
        }
    }

    /** Opens a stream to {@code to}, writes one message, reads and unwraps the reply. */
    byte[] exchange(InetSocketAddress to, byte[] message) throws IOException, MalformedMessageException {
        try (Socket s = new Socket()) {
            s.connect(to, 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(Streams.wrap(message, options));
            return Streams.unwrap(readFrame(s.getInputStream(), options.limits()), options);
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        try {
            tcp.close();
        } catch (IOException ignored) {
            // closing to stop the accept loop
        }
        udp.close();
        tcpThread.join(5000);
        udpThread.join(5000);
    }
}
