package io.hacluster.messaging;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The streaming-port wire format (big-endian), described in {@code docs/messaging.md}.
 *
 * <pre>
 * frame  = u32 length (of what follows, 1..maxFrameSize) | u8 type | payload
 * HELLO  = u32 magic "HAC1" | u8 version | str16 clusterName | str16 nodeId
 *          version 2 (keyed, see HelloAuth) adds: 32-byte nonce | u8 macLength (0 or 32) | mac
 * AUTH   = 32-byte mac: the dialer's answer to a keyed HELLO (type 16)
 * DATA   = u8 flags (1 reliable, 2 compressed) | u8 kind | u64 epoch | u64 seq | u64 requestId | body
 * ACK    = u64 epoch | u64 cumulative seq delivered
 * PING   = (empty)
 * GOODBYE = (empty): the sender is closing; everything it handled is acknowledged before this
 * body   = [u32 uncompressedLength, deflate(...)] if compressed, else:
 *          str16 event | u16 propCount | (str16 key | str32 value)* | data (rest)
 * best-effort packet = u8 'H' | u8 version | u8 flags (2 compressed) | str16 senderId | body
 * </pre>
 */
final class Wire {

    static final byte HELLO = 1;
    static final byte DATA = 2;
    static final byte ACK = 3;
    static final byte PING = 4;
    static final byte GOODBYE = 5;
    /** The dialer's proof of the cluster key; far from the other types so other additions do not collide. */
    static final byte AUTH = 16;

    static final int MAGIC = 0x48414331; // "HAC1"
    static final byte VERSION = 1;
    /** HELLO version of the keyed handshake. */
    static final byte KEYED_VERSION = 2;
    static final int FLAG_RELIABLE = 1;
    static final int FLAG_COMPRESSED = 2;

    static final byte PACKET_MAGIC = 'H';
    static final int MAX_EVENT_BYTES = 1024;
    /** Largest frame accepted before the handshake completes: a HELLO is tiny. */
    static final int MAX_HANDSHAKE_FRAME = 1024;
    /** Bytes of a DATA frame before the body, including the length prefix. */
    static final int DATA_HEADER = 4 + 1 + 1 + 1 + 8 + 8 + 8;

    private Wire() {
    }

    // ----- encoding -----

    /**
     * Encodes a body, deflated if enabled and larger than the threshold.
     *
     * @throws FrameTooLargeException if the uncompressed body or the resulting frame exceeds the limit
     */
    static EncodedBody encodeBody(String event, Map<String, String> props, byte[] data, boolean compress,
                                  int threshold, int maxFrameSize) {
        byte[] ev = event.getBytes(StandardCharsets.UTF_8);
        if (ev.length > MAX_EVENT_BYTES) {
            throw new IllegalArgumentException("event name longer than " + MAX_EVENT_BYTES + " bytes");
        }
        if (props.size() > 0xFFFF) {
            throw new IllegalArgumentException("more than 65535 props");
        }
        long size = 2L + ev.length + 2 + data.length;
        byte[][] kv = new byte[props.size() * 2][];
        int i = 0;
        for (Map.Entry<String, String> e : props.entrySet()) {
            byte[] k = e.getKey().getBytes(StandardCharsets.UTF_8);
            if (k.length > 0xFFFF) {
                throw new IllegalArgumentException("prop key longer than 65535 bytes");
            }
            byte[] v = e.getValue().getBytes(StandardCharsets.UTF_8);
            kv[i++] = k;
            kv[i++] = v;
            size += 2 + k.length + 4 + v.length;
        }
        if (size > maxFrameSize - (DATA_HEADER - 4)) {
            throw new FrameTooLargeException("message '" + event + "' is " + size
                    + " bytes, above MaxFrameSize " + maxFrameSize);
        }
        ByteBuf buf = Unpooled.buffer((int) size, (int) size);
        writeStr16(buf, ev);
        buf.writeShort(props.size());
        for (int j = 0; j < kv.length; j += 2) {
            writeStr16(buf, kv[j]);
            buf.writeInt(kv[j + 1].length);
            buf.writeBytes(kv[j + 1]);
        }
        buf.writeBytes(data);
        byte[] plain = buf.array();
        if (compress && data.length > threshold) {
            byte[] deflated = Compression.deflate(plain);
            if (deflated != null && deflated.length + 4 < plain.length) {
                byte[] out = new byte[deflated.length + 4];
                out[0] = (byte) (plain.length >>> 24);
                out[1] = (byte) (plain.length >>> 16);
                out[2] = (byte) (plain.length >>> 8);
                out[3] = (byte) plain.length;
                System.arraycopy(deflated, 0, out, 4, deflated.length);
                return new EncodedBody(out, true);
            }
        }
        return new EncodedBody(plain, false);
    }

    /** The header of a DATA frame, to be followed by the body bytes. */
    static byte[] dataHeader(int bodyLength, boolean reliable, boolean compressed, MessageKind kind,
                             long epoch, long seq, long requestId) {
        ByteBuf b = Unpooled.buffer(DATA_HEADER, DATA_HEADER);
        b.writeInt(DATA_HEADER - 4 + bodyLength);
        b.writeByte(DATA);
        b.writeByte((reliable ? FLAG_RELIABLE : 0) | (compressed ? FLAG_COMPRESSED : 0));
        b.writeByte(kind.ordinal());
        b.writeLong(epoch);
        b.writeLong(seq);
        b.writeLong(requestId);
        return b.array();
    }

    static ByteBuf hello(String clusterName, String nodeId) {
        byte[] c = clusterName.getBytes(StandardCharsets.UTF_8);
        byte[] n = nodeId.getBytes(StandardCharsets.UTF_8);
        int len = 1 + 4 + 1 + 2 + c.length + 2 + n.length;
        ByteBuf b = Unpooled.buffer(4 + len);
        b.writeInt(len);
        b.writeByte(HELLO);
        b.writeInt(MAGIC);
        b.writeByte(VERSION);
        writeStr16(b, c);
        writeStr16(b, n);
        return b;
    }

    /** A keyed HELLO: the plain fields, this side's nonce, and (acceptor only) its proof, else null. */
    static ByteBuf keyedHello(String clusterName, String nodeId, byte[] nonce, byte[] mac) {
        byte[] c = clusterName.getBytes(StandardCharsets.UTF_8);
        byte[] n = nodeId.getBytes(StandardCharsets.UTF_8);
        int macLength = mac == null ? 0 : mac.length;
        int len = 1 + 4 + 1 + 2 + c.length + 2 + n.length + HelloAuth.NONCE_BYTES + 1 + macLength;
        ByteBuf b = Unpooled.buffer(4 + len);
        b.writeInt(len);
        b.writeByte(HELLO);
        b.writeInt(MAGIC);
        b.writeByte(KEYED_VERSION);
        writeStr16(b, c);
        writeStr16(b, n);
        b.writeBytes(nonce);
        b.writeByte(macLength);
        if (mac != null) {
            b.writeBytes(mac);
        }
        return b;
    }

    static ByteBuf auth(byte[] mac) {
        ByteBuf b = Unpooled.buffer(4 + 1 + mac.length);
        b.writeInt(1 + mac.length);
        b.writeByte(AUTH);
        b.writeBytes(mac);
        return b;
    }

    static ByteBuf ack(long epoch, long seq) {
        ByteBuf b = Unpooled.buffer(4 + 1 + 16);
        b.writeInt(17);
        b.writeByte(ACK);
        b.writeLong(epoch);
        b.writeLong(seq);
        return b;
    }

    static ByteBuf ping() {
        return empty(PING);
    }

    static ByteBuf goodbye() {
        return empty(GOODBYE);
    }

    private static ByteBuf empty(byte type) {
        ByteBuf b = Unpooled.buffer(5);
        b.writeInt(1);
        b.writeByte(type);
        return b;
    }

    static byte[] bestEffortPacket(String senderId, EncodedBody body) {
        byte[] s = senderId.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = Unpooled.buffer(3 + 2 + s.length + body.bytes().length);
        b.writeByte(PACKET_MAGIC);
        b.writeByte(VERSION);
        b.writeByte(body.compressed() ? FLAG_COMPRESSED : 0);
        writeStr16(b, s);
        b.writeBytes(body.bytes());
        return b.array();
    }

    private static void writeStr16(ByteBuf b, byte[] s) {
        b.writeShort(s.length);
        b.writeBytes(s);
    }

    // ----- decoding (input is hostile: every length is checked against what remains) -----

    /** A decoded HELLO; {@code nonce} is null for a plain one, {@code mac} null unless sent. */
    record Hello(String clusterName, String nodeId, byte[] nonce, byte[] mac) {
        Hello(String clusterName, String nodeId) {
            this(clusterName, nodeId, null, null);
        }

        boolean keyed() {
            return nonce != null;
        }
    }

    /** A decoded best-effort packet. */
    record Packet(String senderId, MessageBody body) {
    }

    static Hello decodeHello(ByteBuf in) throws ProtocolException {
        need(in, 5);
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new ProtocolException("bad magic 0x" + Integer.toHexString(magic));
        }
        byte version = in.readByte();
        if (version != VERSION && version != KEYED_VERSION) {
            throw new ProtocolException("unsupported protocol version " + version);
        }
        String cluster = readStr16(in);
        String node = readStr16(in);
        if (node.isEmpty()) {
            throw new ProtocolException("empty node id");
        }
        if (version == VERSION) {
            return new Hello(cluster, node);
        }
        need(in, HelloAuth.NONCE_BYTES + 1);
        byte[] nonce = new byte[HelloAuth.NONCE_BYTES];
        in.readBytes(nonce);
        int macLength = in.readUnsignedByte();
        if (macLength != 0 && macLength != HelloAuth.MAC_BYTES) {
            throw new ProtocolException("keyed HELLO with a " + macLength + "-byte proof");
        }
        byte[] mac = null;
        if (macLength > 0) {
            need(in, macLength);
            mac = new byte[macLength];
            in.readBytes(mac);
        }
        return new Hello(cluster, node, nonce, mac);
    }

    static byte[] decodeAuth(ByteBuf in) throws ProtocolException {
        if (in.readableBytes() != HelloAuth.MAC_BYTES) {
            throw new ProtocolException("AUTH of " + in.readableBytes() + " bytes");
        }
        byte[] mac = new byte[HelloAuth.MAC_BYTES];
        in.readBytes(mac);
        return mac;
    }

    static DataFrame decodeData(ByteBuf in, int maxBody) throws ProtocolException {
        need(in, 2 + 24);
        int flags = in.readUnsignedByte();
        MessageKind kind = MessageKind.of(in.readUnsignedByte());
        long epoch = in.readLong();
        long seq = in.readLong();
        long requestId = in.readLong();
        boolean reliable = (flags & FLAG_RELIABLE) != 0;
        if (reliable && seq <= 0) {
            throw new ProtocolException("reliable frame with seq " + seq);
        }
        MessageBody body = decodeBody(in, (flags & FLAG_COMPRESSED) != 0, maxBody);
        return new DataFrame(reliable, kind, epoch, seq, requestId, body);
    }

    static long[] decodeAck(ByteBuf in) throws ProtocolException {
        need(in, 16);
        return new long[] {in.readLong(), in.readLong()};
    }

    static Packet decodePacket(byte[] packet, int maxBody) throws ProtocolException {
        ByteBuf in = Unpooled.wrappedBuffer(packet);
        need(in, 3);
        if (in.readByte() != PACKET_MAGIC) {
            throw new ProtocolException("not a messaging packet");
        }
        byte version = in.readByte();
        if (version != VERSION) {
            throw new ProtocolException("unsupported packet version " + version);
        }
        int flags = in.readUnsignedByte();
        String sender = readStr16(in);
        if (sender.isEmpty()) {
            throw new ProtocolException("empty sender id");
        }
        return new Packet(sender, decodeBody(in, (flags & FLAG_COMPRESSED) != 0, maxBody));
    }

    private static MessageBody decodeBody(ByteBuf in, boolean compressed, int maxBody) throws ProtocolException {
        if (compressed) {
            need(in, 4);
            int declared = in.readInt();
            int n = in.readableBytes();
            byte[] z = new byte[n];
            in.readBytes(z);
            in = Unpooled.wrappedBuffer(Compression.inflate(z, 0, n, declared, maxBody));
        }
        String event = readStr16(in);
        if (event.isEmpty()) {
            throw new ProtocolException("empty event");
        }
        need(in, 2);
        int count = in.readUnsignedShort();
        Map<String, String> props = count == 0 ? Map.of() : new HashMap<>(Math.min(count, 64) * 2);
        for (int i = 0; i < count; i++) {
            String k = readStr16(in);
            need(in, 4);
            int vlen = in.readInt();
            if (vlen < 0 || vlen > in.readableBytes()) {
                throw new ProtocolException("prop value length " + vlen + " exceeds frame");
            }
            String v = in.readCharSequence(vlen, StandardCharsets.UTF_8).toString();
            props.put(k, v);
        }
        byte[] data = new byte[in.readableBytes()];
        in.readBytes(data);
        return new MessageBody(event, props, data);
    }

    private static String readStr16(ByteBuf in) throws ProtocolException {
        need(in, 2);
        int len = in.readUnsignedShort();
        need(in, len);
        return in.readCharSequence(len, StandardCharsets.UTF_8).toString();
    }

    private static void need(ByteBuf in, int n) throws ProtocolException {
        if (in.readableBytes() < n) {
            throw new ProtocolException("truncated: need " + n + " bytes, have " + in.readableBytes());
        }
    }
}
