package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * memberlist's UDP packet format, both directions.
 *
 * <p>Outgoing ({@code rawSendMsgPacket} then the label-wrapping transport), innermost first:
 * <ol>
 *   <li>a message or a compound {@code [7][count u8][count × u16 BE length][parts]};</li>
 *   <li>compression when enabled and only when it makes the packet smaller:
 *       {@code [9][msgpack compress{Algo: 0, Buf: LZW data}]};</li>
 *   <li>when the receiver speaks protocol 5 or later: {@code [12][CRC32 IEEE, u32 BE][rest]};</li>
 *   <li>encryption, when enabled: the whole payload becomes the cipher's output (no type byte),
 *       authenticated with the label;</li>
 *   <li>the label, when set: {@code [244][length 1..255][label bytes]}.</li>
 * </ol>
 * Incoming undoes the same steps: label (checked against ours), decryption, CRC (only as the
 * outermost message), then compound and compress recursively, as memberlist's
 * {@code handleCommand} does.
 */
public final class Packets {

    /** memberlist's default {@code UDPBufferSize}. */
    public static final int DEFAULT_UDP_BUFFER_SIZE = 1400;
    /** Bytes a compound adds before its parts: type and count. */
    public static final int COMPOUND_HEADER_OVERHEAD = 2;
    /** Bytes a compound adds per part: its u16 length. */
    public static final int COMPOUND_PART_OVERHEAD = 2;
    /** Bytes the {@code hasCrc} header adds. */
    public static final int CRC_OVERHEAD = 5;
    /** Most parts one compound can carry (the count is one byte). */
    public static final int MAX_COMPOUND_PARTS = 255;
    /** Deepest nesting of compound and compress accepted on input. */
    static final int MAX_NESTING = 4;

    private Packets() {
    }

    /** A compound message of 1 to 255 messages, each at most 65,535 bytes. */
    public static byte[] compound(List<byte[]> messages) {
        if (messages.isEmpty() || messages.size() > MAX_COMPOUND_PARTS) {
            throw new IllegalArgumentException("a compound holds 1 to 255 messages, not " + messages.size());
        }
        int total = COMPOUND_HEADER_OVERHEAD;
        for (byte[] m : messages) {
            if (m.length > 0xFFFF) {
                throw new IllegalArgumentException("a compound part is at most 65535 bytes, not " + m.length);
            }
            total += COMPOUND_PART_OVERHEAD + m.length;
        }
        byte[] out = new byte[total];
        out[0] = (byte) MessageType.COMPOUND.code();
        out[1] = (byte) messages.size();
        int p = 2;
        for (byte[] m : messages) {
            out[p++] = (byte) (m.length >>> 8);
            out[p++] = (byte) m.length;
        }
        for (byte[] m : messages) {
            System.arraycopy(m, 0, out, p, m.length);
            p += m.length;
        }
        return out;
    }

    /**
     * The room for messages in one packet: {@code udpBufferSize} minus what the label,
     * encryption and CRC add. Compression only ever shrinks a packet, so it is not counted.
     */
    public static int payloadBudget(int udpBufferSize, WireOptions options) {
        int budget = udpBufferSize - options.labelOverhead() - CRC_OVERHEAD;
        if (options.encryptsOutgoing()) {
            budget -= options.cipher().encryptedLength(0);
        }
        return budget;
    }

    /**
     * Packs messages, in order, into as few payloads as fit {@code budget} bytes each (see
     * {@link #payloadBudget}): a lone message is sent as it is, several share a compound.
     * A message that cannot fit the budget even alone is still returned alone in its own
     * payload; the caller decides whether to send it (memberlist does) or drop it.
     */
    public static List<byte[]> pack(List<byte[]> messages, int budget) {
        List<byte[]> out = new ArrayList<>();
        List<byte[]> group = new ArrayList<>();
        int groupSize = COMPOUND_HEADER_OVERHEAD;
        for (byte[] m : messages) {
            int cost = COMPOUND_PART_OVERHEAD + m.length;
            if (!group.isEmpty() && (groupSize + cost > budget || group.size() == MAX_COMPOUND_PARTS)) {
                out.add(finish(group));
                group.clear();
                groupSize = COMPOUND_HEADER_OVERHEAD;
            }
            group.add(m);
            groupSize += cost;
        }
        if (!group.isEmpty()) {
            out.add(finish(group));
        }
        return out;
    }

    private static byte[] finish(List<byte[]> group) {
        return group.size() == 1 ? group.get(0) : compound(group);
    }

    /**
     * Wraps one payload (a message or compound) into the bytes to send.
     *
     * @param addCrc true when the receiver's maximum protocol version is 5 or more
     */
    public static byte[] wrap(byte[] payload, boolean addCrc, WireOptions options) {
        byte[] msg = payload;
        if (options.compress()) {
            byte[] compressed = Codec.encodeCompress(Lzw.compress(msg));
            if (compressed.length < msg.length) {
                msg = compressed;
            }
        }
        if (addCrc) {
            CRC32 crc = new CRC32();
            crc.update(msg);
            long v = crc.getValue();
            byte[] withCrc = new byte[CRC_OVERHEAD + msg.length];
            withCrc[0] = (byte) MessageType.HAS_CRC.code();
            withCrc[1] = (byte) (v >>> 24);
            withCrc[2] = (byte) (v >>> 16);
            withCrc[3] = (byte) (v >>> 8);
            withCrc[4] = (byte) v;
            System.arraycopy(msg, 0, withCrc, CRC_OVERHEAD, msg.length);
            msg = withCrc;
        }
        if (options.encryptsOutgoing()) {
            msg = options.cipher().encrypt(msg, options.labelBytes());
        }
        return addLabel(msg, options.label());
    }

    /** Prefixes {@code [244][len][label]} when the label is not empty. */
    static byte[] addLabel(byte[] msg, String label) {
        if (label.isEmpty()) {
            return msg;
        }
        byte[] l = label.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[2 + l.length + msg.length];
        out[0] = (byte) MessageType.HAS_LABEL.code();
        out[1] = (byte) l.length;
        System.arraycopy(l, 0, out, 2, l.length);
        System.arraycopy(msg, 0, out, 2 + l.length, msg.length);
        return out;
    }

    /**
     * Checks the label at {@code data[0..]} the way memberlist does and returns the offset of what
     * follows it. An absent label reads as {@code ""}; with {@code skipInboundLabelCheck} any
     * label present is an error, otherwise the label must equal ours.
     */
    static int checkLabel(byte[] data, int length, WireOptions options) throws MalformedMessageException {
        String label = "";
        int offset = 0;
        if (length > 0 && (data[0] & 0xFF) == MessageType.HAS_LABEL.code()) {
            if (length < 2) {
                throw new MalformedMessageException(Reason.TRUNCATED, "cannot decode label: input truncated");
            }
            int size = data[1] & 0xFF;
            if (size < 1) {
                throw new MalformedMessageException(Reason.INVALID_BODY, "label header cannot be empty when present");
            }
            if (length < 2 + size) {
                throw new MalformedMessageException(Reason.TRUNCATED, "cannot decode label: input truncated");
            }
            label = new String(data, 2, size, StandardCharsets.UTF_8);
            offset = 2 + size;
            if (options.skipInboundLabelCheck()) {
                throw new MalformedMessageException(Reason.LABEL_MISMATCH,
                        "unexpected label header while inbound label checks are skipped");
            }
        }
        if (!options.skipInboundLabelCheck() && !options.label().equals(label)) {
            throw new MalformedMessageException(Reason.LABEL_MISMATCH,
                    "discarding input with unacceptable label \"" + printable(label) + "\"");
        }
        return offset;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return b.toString();
    }

    /** Unwraps a received packet; never returns null, throws on anything malformed. */
    public static UnwrappedPacket unwrap(byte[] packet, WireOptions options) throws MalformedMessageException {
        int offset = checkLabel(packet, packet.length, options);
        byte[] buf = Arrays.copyOfRange(packet, offset, packet.length);
        boolean decrypted = false;
        if (options.cipher() != null) {
            try {
                buf = options.cipher().decrypt(buf, options.labelBytes());
                decrypted = true;
            } catch (MalformedMessageException e) {
                if (options.verifyIncoming()) {
                    throw e;
                }
                // GossipVerifyIncoming off: treat the packet as plaintext, as memberlist does.
            }
        }
        boolean hadCrc = false;
        int start = 0;
        if (buf.length >= CRC_OVERHEAD && (buf[0] & 0xFF) == MessageType.HAS_CRC.code()) {
            CRC32 crc = new CRC32();
            crc.update(buf, CRC_OVERHEAD, buf.length - CRC_OVERHEAD);
            long expected = ((buf[1] & 0xFFL) << 24) | ((buf[2] & 0xFFL) << 16)
                    | ((buf[3] & 0xFFL) << 8) | (buf[4] & 0xFFL);
            if (crc.getValue() != expected) {
                throw new MalformedMessageException(Reason.BAD_CHECKSUM, String.format(
                        "invalid checksum: computed %08x, packet says %08x", crc.getValue(), expected));
            }
            hadCrc = true;
            start = CRC_OVERHEAD;
        }
        Collector c = new Collector(options.limits());
        c.collect(buf, start, buf.length - start, 0);
        return new UnwrappedPacket(c.messages, c.truncated, hadCrc, decrypted);
    }

    /** Flattens compound and compress wrappers, as memberlist's handleCommand recursion. */
    private static final class Collector {
        private final WireLimits limits;
        private final List<byte[]> messages = new ArrayList<>();
        private int truncated;
        private long decompressed;

        Collector(WireLimits limits) {
            this.limits = limits;
        }

        void collect(byte[] buf, int off, int len, int depth) throws MalformedMessageException {
            if (len < 1) {
                throw new MalformedMessageException(Reason.TRUNCATED, "missing message type byte");
            }
            int type = buf[off] & 0xFF;
            if (type == MessageType.COMPOUND.code()) {
                if (depth >= MAX_NESTING) {
                    throw tooDeep();
                }
                compound(buf, off + 1, len - 1, depth);
            } else if (type == MessageType.COMPRESS.code()) {
                if (depth >= MAX_NESTING) {
                    throw tooDeep();
                }
                MsgpackReader r = new MsgpackReader(buf, off + 1, len - 1);
                byte[] lzw = Codec.readCompress(r, len);
                long room = limits.maxPacketDecompressedBytes() - decompressed;
                byte[] plain = Lzw.decompress(lzw, (int) Math.max(0, room));
                decompressed += plain.length;
                if (plain.length == 0) {
                    throw new MalformedMessageException(Reason.COMPRESSION, "decompressed message is empty");
                }
                collect(plain, 0, plain.length, depth + 1);
            } else if (isPacketMessage(type)) {
                if (messages.size() >= limits.maxMessagesPerPacket()) {
                    throw new MalformedMessageException(Reason.TOO_LARGE,
                            "packet holds more than " + limits.maxMessagesPerPacket() + " messages");
                }
                messages.add(Arrays.copyOfRange(buf, off, off + len));
            } else {
                throw new MalformedMessageException(Reason.UNKNOWN_TYPE,
                        "message type " + type + " is not supported in a packet");
            }
        }

        private void compound(byte[] buf, int off, int len, int depth) throws MalformedMessageException {
            if (len < 1) {
                throw new MalformedMessageException(Reason.TRUNCATED, "missing compound length byte");
            }
            int parts = buf[off] & 0xFF;
            int p = off + 1;
            int end = off + len;
            if (end - p < parts * 2) {
                throw new MalformedMessageException(Reason.TRUNCATED, "truncated compound length slice");
            }
            int lengthsAt = p;
            p += parts * 2;
            for (int i = 0; i < parts; i++) {
                int partLen = ((buf[lengthsAt + 2 * i] & 0xFF) << 8) | (buf[lengthsAt + 2 * i + 1] & 0xFF);
                if (end - p < partLen) {
                    truncated += parts - i;
                    return;
                }
                collect(buf, p, partLen, depth + 1);
                p += partLen;
            }
        }

        private static MalformedMessageException tooDeep() {
            return new MalformedMessageException(Reason.INVALID_BODY,
                    "compound/compress nesting deeper than " + MAX_NESTING);
        }
    }

    /** Types memberlist's handleCommand accepts as messages (not wrappers) in a packet. */
    private static boolean isPacketMessage(int type) {
        return type == MessageType.PING.code() || type == MessageType.INDIRECT_PING.code()
                || type == MessageType.ACK.code() || type == MessageType.NACK.code()
                || type == MessageType.SUSPECT.code() || type == MessageType.ALIVE.code()
                || type == MessageType.DEAD.code() || type == MessageType.USER.code();
    }
}
