package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * memberlist's message bodies: {@code [type byte][msgpack body]}, msgpack encoded exactly as Go's
 * {@code codec.MsgpackHandle{}} writes it (structs as maps keyed by the Go field names in sorted
 * order, {@code omitempty} fields left out when empty, strings and byte slices as msgpack raw
 * strings, see {@link MsgpackWriter}).
 *
 * <p>A "message" here is one unwrapped memberlist message, as it sits inside a compound part, a
 * decompressed payload or a stream after its label, encryption and compression wrappers are
 * removed ({@link Packets}, {@link Streams} do that). Decoders accept what Go's decoder accepts
 * (any integer width, str or bin, nil as zero, unknown keys skipped) and reject everything else
 * with a {@link MalformedMessageException}; byte fields decoded from nil come back empty, never
 * null. Trailing bytes after a body are rejected: a Go sender never writes them.
 */
public final class Codec {

    /** Length of the {@code vsn} byte array memberlist sends: pmin, pmax, pcur, dmin, dmax, dcur. */
    public static final int VSN_LENGTH = 6;
    /** Longest vsn accepted (memberlist uses the first six bytes and ignores the rest). */
    static final int MAX_VSN_BYTES = 255;
    /** The {@code compress.Algo} value of LZW, the only algorithm memberlist defines. */
    static final int LZW_ALGO = 0;

    private Codec() {
    }

    // ------------------------------------------------------------------ encoding

    /**
     * Encodes a message as {@code [type][msgpack body]}; a {@link Message.User} becomes
     * {@code [8][payload]}, the packet form (use {@link #encodeUserStream} on streams).
     */
    public static byte[] encode(Message message) {
        MsgpackWriter w = new MsgpackWriter(64);
        w.writeRawByte(message.type().code());
        if (message instanceof Message.Ping p) {
            w.writeMapHeader(2 + sourceFieldCount(p.sourceAddr(), p.sourcePort(), p.sourceNode()));
            w.writeString("Node").writeString(nz(p.node()));
            w.writeString("SeqNo").writeUnsigned(Integer.toUnsignedLong(p.seqNo()));
            writeSourceFields(w, p.sourceAddr(), p.sourcePort(), p.sourceNode());
        } else if (message instanceof Message.IndirectPing p) {
            w.writeMapHeader(5 + sourceFieldCount(p.sourceAddr(), p.sourcePort(), p.sourceNode()));
            w.writeString("Nack").writeBool(p.nack());
            w.writeString("Node").writeString(nz(p.node()));
            w.writeString("Port").writeUnsigned(p.port() & 0xFFFF);
            w.writeString("SeqNo").writeUnsigned(Integer.toUnsignedLong(p.seqNo()));
            writeSourceFields(w, p.sourceAddr(), p.sourcePort(), p.sourceNode());
            w.writeString("Target").writeBytes(p.target());
        } else if (message instanceof Message.Ack a) {
            w.writeMapHeader(2);
            w.writeString("Payload").writeBytes(a.payload());
            w.writeString("SeqNo").writeUnsigned(Integer.toUnsignedLong(a.seqNo()));
        } else if (message instanceof Message.Nack n) {
            w.writeMapHeader(1);
            w.writeString("SeqNo").writeUnsigned(Integer.toUnsignedLong(n.seqNo()));
        } else if (message instanceof Message.Err e) {
            w.writeMapHeader(1);
            w.writeString("Error").writeString(nz(e.error()));
        } else if (message instanceof Message.Suspect s) {
            writeAccusation(w, s.incarnation(), s.node(), s.from());
        } else if (message instanceof Message.Alive a) {
            w.writeMapHeader(6);
            w.writeString("Addr").writeBytes(a.addr());
            w.writeString("Incarnation").writeUnsigned(Integer.toUnsignedLong(a.incarnation()));
            w.writeString("Meta").writeBytes(a.meta());
            w.writeString("Node").writeString(nz(a.node()));
            w.writeString("Port").writeUnsigned(a.port() & 0xFFFF);
            w.writeString("Vsn").writeBytes(a.vsn());
        } else if (message instanceof Message.Dead d) {
            writeAccusation(w, d.incarnation(), d.node(), d.from());
        } else if (message instanceof Message.User u) {
            w.writeRawBytes(u.payload());
        }
        return w.toByteArray();
    }

    /**
     * How many of the optional source fields of a ping or indirect ping are set; memberlist
     * omits unset ones (omitempty), so the map header must count only those written.
     */
    private static int sourceFieldCount(byte[] addr, int port, String node) {
        return (hasSourceAddr(addr) ? 1 : 0) + (port != 0 ? 1 : 0) + (hasSourceNode(node) ? 1 : 0);
    }

    /** Writes the set source fields of a ping or indirect ping, keys in sorted order as memberlist does. */
    private static void writeSourceFields(MsgpackWriter w, byte[] addr, int port, String node) {
        if (hasSourceAddr(addr)) {
            w.writeString("SourceAddr").writeBytes(addr);
        }
        if (hasSourceNode(node)) {
            w.writeString("SourceNode").writeString(node);
        }
        if (port != 0) {
            w.writeString("SourcePort").writeUnsigned(port & 0xFFFF);
        }
    }

    private static boolean hasSourceAddr(byte[] addr) {
        return addr != null && addr.length > 0;
    }

    private static boolean hasSourceNode(String node) {
        return node != null && !node.isEmpty();
    }

    /** The map body that suspect and dead messages share, keys in memberlist's (sorted) order. */
    private static void writeAccusation(MsgpackWriter w, int incarnation, String node, String from) {
        w.writeMapHeader(3);
        w.writeString("From").writeString(nz(from));
        w.writeString("Incarnation").writeUnsigned(Integer.toUnsignedLong(incarnation));
        w.writeString("Node").writeString(nz(node));
    }

    /** Encodes a push/pull stream message: {@code [6][header][node states][user state]}. */
    public static byte[] encodePushPull(PushPull pushPull) {
        MsgpackWriter w = new MsgpackWriter(64 + 96 * pushPull.nodes().size() + pushPull.userState().length);
        w.writeRawByte(MessageType.PUSH_PULL.code());
        writeHeader(w, pushPull.header());
        for (PushNodeState n : pushPull.nodes()) {
            writeNodeState(w, n);
        }
        w.writeRawBytes(pushPull.userState());
        return w.toByteArray();
    }

    private static void writeHeader(MsgpackWriter w, PushPullHeader h) {
        w.writeMapHeader(3);
        w.writeString("Join").writeBool(h.join());
        w.writeString("Nodes").writeSigned(h.nodes());
        w.writeString("UserStateLen").writeSigned(h.userStateLen());
    }

    private static void writeNodeState(MsgpackWriter w, PushNodeState n) {
        w.writeMapHeader(7);
        w.writeString("Addr").writeBytes(n.addr());
        w.writeString("Incarnation").writeUnsigned(Integer.toUnsignedLong(n.incarnation()));
        w.writeString("Meta").writeBytes(n.meta());
        w.writeString("Name").writeString(nz(n.name()));
        w.writeString("Port").writeUnsigned(n.port() & 0xFFFF);
        w.writeString("State").writeSigned(n.state());
        w.writeString("Vsn").writeBytes(n.vsn());
    }

    /**
     * Encodes a user message for a stream: {@code [8][userMsgHeader{UserMsgLen}][payload]}
     * (memberlist's {@code sendUserMsg}). On packets a user message has no header.
     */
    public static byte[] encodeUserStream(byte[] payload) {
        MsgpackWriter w = new MsgpackWriter(16 + payload.length);
        w.writeRawByte(MessageType.USER.code());
        w.writeMapHeader(1);
        w.writeString("UserMsgLen").writeSigned(payload.length);
        w.writeRawBytes(payload);
        return w.toByteArray();
    }

    /** Encodes {@code [9][compress{Algo: 0, Buf: lzwData}]}. */
    static byte[] encodeCompress(byte[] lzwData) {
        MsgpackWriter w = new MsgpackWriter(16 + lzwData.length);
        w.writeRawByte(MessageType.COMPRESS.code());
        w.writeMapHeader(2);
        w.writeString("Algo").writeUnsigned(LZW_ALGO);
        w.writeString("Buf").writeBytes(lzwData);
        return w.toByteArray();
    }

    // ------------------------------------------------------------------ decoding

    /** The type of a message, from its first byte. */
    public static MessageType typeOf(byte[] message) throws MalformedMessageException {
        if (message.length == 0) {
            throw new MalformedMessageException(Reason.TRUNCATED, "empty message: no type byte");
        }
        MessageType type = MessageType.fromCode(message[0]);
        if (type == null) {
            throw new MalformedMessageException(Reason.UNKNOWN_TYPE,
                    "unknown message type " + (message[0] & 0xFF));
        }
        return type;
    }

    /** Decodes {@code [type][body]} with the default limits; see {@link #decode(byte[], WireLimits)}. */
    public static Message decode(byte[] message) throws MalformedMessageException {
        return decode(message, WireLimits.DEFAULT);
    }

    /**
     * Decodes one simple message: ping, indirect ping, ack, nack, err, suspect, alive, dead, or
     * a packet user message. Wrappers (compound, compress, CRC, label, encryption) and stream-only
     * messages (push/pull, stream user message) are rejected with {@code UNKNOWN_TYPE}.
     */
    public static Message decode(byte[] message, WireLimits limits) throws MalformedMessageException {
        MessageType type = typeOf(message);
        return decodeBody(type, message, 1, message.length - 1, limits);
    }

    /** Decodes a body without its type byte. */
    public static Message decodeBody(MessageType type, byte[] body, int offset, int length,
                                     WireLimits limits) throws MalformedMessageException {
        if (type == MessageType.USER) {
            return new Message.User(Arrays.copyOfRange(body, offset, offset + length));
        }
        MsgpackReader r = new MsgpackReader(body, offset, length);
        Message m = switch (type) {
            case PING -> readPing(r);
            case INDIRECT_PING -> readIndirectPing(r);
            case ACK -> readAck(r, limits);
            case NACK -> readNack(r);
            case ERR -> readErr(r);
            case SUSPECT -> readSuspect(r);
            case ALIVE -> readAlive(r, limits);
            case DEAD -> readDead(r);
            default -> throw new MalformedMessageException(Reason.UNKNOWN_TYPE,
                    "message type " + type + " has no simple body");
        };
        requireEnd(r, type.name());
        return m;
    }

    private static void requireEnd(MsgpackReader r, String what) throws MalformedMessageException {
        if (r.remaining() != 0) {
            throw new MalformedMessageException(Reason.INVALID_BODY,
                    r.remaining() + " trailing bytes after " + what);
        }
    }

    /** Decodes a push/pull stream message {@code [6][header][node states][user state]}. */
    public static PushPull decodePushPull(byte[] message, WireLimits limits)
            throws MalformedMessageException {
        if (typeOf(message) != MessageType.PUSH_PULL) {
            throw new MalformedMessageException(Reason.UNKNOWN_TYPE,
                    "expected a push/pull message, found type " + (message[0] & 0xFF));
        }
        MsgpackReader r = new MsgpackReader(message, 1, message.length - 1);
        PushPullHeader header = readPushPullHeader(r, limits);
        int nodesStart = r.position();
        List<PushNodeState> nodes = new ArrayList<>(Math.min(header.nodes(), 1024));
        for (int i = 0; i < header.nodes(); i++) {
            nodes.add(readNodeState(r, limits));
            if (r.position() - nodesStart > limits.maxPushStateBytes()) {
                throw new MalformedMessageException(Reason.TOO_LARGE,
                        "push/pull node states exceed " + limits.maxPushStateBytes() + " bytes");
            }
        }
        byte[] user = r.readRaw(header.userStateLen(), "push/pull user state");
        requireEnd(r, "push/pull user state");
        return new PushPull(header.join(), nodes, user);
    }

    /** Decodes a stream user message {@code [8][userMsgHeader][payload]} into its payload. */
    public static byte[] decodeUserStream(byte[] message, WireLimits limits)
            throws MalformedMessageException {
        if (typeOf(message) != MessageType.USER) {
            throw new MalformedMessageException(Reason.UNKNOWN_TYPE,
                    "expected a user message, found type " + (message[0] & 0xFF));
        }
        MsgpackReader r = new MsgpackReader(message, 1, message.length - 1);
        int len = readUserMsgLen(r, limits);
        byte[] payload = r.readRaw(len, "user message payload");
        requireEnd(r, "user message payload");
        return payload;
    }

    static PushPullHeader readPushPullHeader(MsgpackReader r, WireLimits limits)
            throws MalformedMessageException {
        int entries = r.readMapHeader("pushPullHeader");
        long nodes = 0;
        long userStateLen = 0;
        boolean join = false;
        for (int i = 0; i < entries; i++) {
            switch (r.readKey()) {
                case "Nodes" -> nodes = r.readInteger("pushPullHeader.Nodes");
                case "UserStateLen" -> userStateLen = r.readInteger("pushPullHeader.UserStateLen");
                case "Join" -> join = r.readBool("pushPullHeader.Join");
                default -> r.skipValue();
            }
        }
        if (nodes < 0 || nodes > limits.maxPushNodes()) {
            throw new MalformedMessageException(Reason.TOO_LARGE,
                    "push/pull node count " + nodes + " outside [0, " + limits.maxPushNodes() + "]");
        }
        if (userStateLen < 0 || userStateLen > limits.maxPushStateBytes()) {
            throw new MalformedMessageException(Reason.TOO_LARGE,
                    "push/pull user state length " + userStateLen + " outside [0, "
                            + limits.maxPushStateBytes() + "]");
        }
        return new PushPullHeader((int) nodes, (int) userStateLen, join);
    }

    static int readUserMsgLen(MsgpackReader r, WireLimits limits) throws MalformedMessageException {
        int entries = r.readMapHeader("userMsgHeader");
        long len = 0;
        for (int i = 0; i < entries; i++) {
            if (r.readKey().equals("UserMsgLen")) {
                len = r.readInteger("userMsgHeader.UserMsgLen");
            } else {
                r.skipValue();
            }
        }
        if (len < 0 || len > limits.maxUserMessageBytes()) {
            throw new MalformedMessageException(Reason.TOO_LARGE,
                    "user message length " + len + " outside [0, " + limits.maxUserMessageBytes() + "]");
        }
        return (int) len;
    }

    /** Decodes a {@code compress} body (after its type byte) and returns its LZW data. */
    static byte[] readCompress(MsgpackReader r, int maxCompressedBytes) throws MalformedMessageException {
        int entries = r.readMapHeader("compress");
        long algo = 0;
        byte[] data = new byte[0];
        for (int i = 0; i < entries; i++) {
            switch (r.readKey()) {
                case "Algo" -> algo = r.readInteger("compress.Algo", 0, 255);
                case "Buf" -> data = r.readBytes("compress.Buf", maxCompressedBytes);
                default -> r.skipValue();
            }
        }
        if (algo != LZW_ALGO) {
            throw new MalformedMessageException(Reason.COMPRESSION,
                    "cannot decompress unknown algorithm " + algo);
        }
        return data;
    }

    private static Message readPing(MsgpackReader r) throws MalformedMessageException {
        int entries = r.readMapHeader("ping");
        long seqNo = 0;
        String node = "";
        byte[] sourceAddr = new byte[0];
        long sourcePort = 0;
        String sourceNode = "";
        for (int i = 0; i < entries; i++) {
            switch (r.readKey()) {
                case "SeqNo" -> seqNo = readUint32(r, "ping.SeqNo");
                case "Node" -> node = r.readString("ping.Node");
                case "SourceAddr" -> sourceAddr = readAddr(r, "ping.SourceAddr");
                case "SourcePort" -> sourcePort = readPort(r, "ping.SourcePort");
                case "SourceNode" -> sourceNode = r.readString("ping.SourceNode");
                default -> r.skipValue();
            }
        }
        return new Message.Ping((int) seqNo, node, sourceAddr, (int) sourcePort, sourceNode);
    }

    private static Message readIndirectPing(MsgpackReader r) throws MalformedMessageException {
        int entries = r.readMapHeader("indirectPingReq");
        long seqNo = 0;
        byte[] target = new byte[0];
        long port = 0;
        String node = "";
        boolean nack = false;
        byte[] sourceAddr = new byte[0];
        long sourcePort = 0;
        String sourceNode = "";
        for (int i = 0; i < entries; i++) {
            switch (r.readKey()) {
                case "SeqNo" -> seqNo = readUint32(r, "indirectPingReq.SeqNo");
                case "Target" -> target = readAddr(r, "indirectPingReq.Target");
                case "Port" -> port = readPort(r, "indirectPingReq.Port");
                case "Node" -> node = r.readString("indirectPingReq.Node");
                case "Nack" -> nack = r.readBool("indirectPingReq.Nack");
                case "SourceAddr" -> sourceAddr = readAddr(r, "indirectPingReq.SourceAddr");
                case "SourcePort" -> sourcePort = readPort(r, "indirectPingReq.SourcePort");
                case "SourceNode" -> sourceNode = r.readString("indirectPingReq.SourceNode");
                default -> r.skipValue();
            }
        }
        return new Message.IndirectPing((int) seqNo, target, (int) port, node, nack, sourceAddr,
                (int) sourcePort, sourceNode);
    }

    private static Message readAck(MsgpackReader r, WireLimits limits) throws MalformedMessageException {
        int entries = r.readMapHeader("ackResp");
        long seqNo = 0;
        byte[] payload = new byte[0];
        for (int i = 0; i < entries; i++) {
            switch (r.readKey()) {
                case "SeqNo" -> seqNo = readUint32(r, "ackResp.SeqNo");
                case "Payload" -> payload = r.readBytes("ackResp.Payload", limits.maxUserMessageBytes());
                default -> r.skipValue();
            }
        }
        return new Message.Ack((int) seqNo, payload);
    }

    private static Message readNack(MsgpackReader r) throws MalformedMessageException {
        int entries = r.readMapHeader("nackResp");
        long seqNo = 0;
        for (int i = 0; i < entries; i++) {
            if (r.readKey().equals("SeqNo")) {
                seqNo = readUint32(r, "nackResp.SeqNo");
            } else {
                r.skipValue();
            }
        }
        return new Message.Nack((int) seqNo);
    }

    private static Message readErr(MsgpackReader r) throws MalformedMessageException {
        int entries = r.readMapHeader("errResp");
        String error = "";
        for (int i = 0; i < entries; i++) {
            if (r.readKey().equals("Error")) {
                error = r.readString("errResp.Error");
            } else {
                r.skipValue();
            }
        }
        return new Message.Err(error);
    }

    private static Message readSuspect(MsgpackReader r) throws MalformedMessageException {
        return readAccusation(r, SUSPECT_LABELS, Message.Suspect::new);
    }

    private static Message readDead(MsgpackReader r) throws MalformedMessageException {
        return readAccusation(r, DEAD_LABELS, Message.Dead::new);
    }

    /** Builds a suspect or dead message: both carry the same fields (memberlist's suspect and dead structs). */
    @FunctionalInterface
    private interface Accusation {
        Message of(int incarnation, String node, String from);
    }

    /** How errors name an accusation's map and fields; constants, so decoding builds no strings. */
    private record AccusationLabels(String map, String incarnation, String node, String from) {
        static AccusationLabels of(String map) {
            return new AccusationLabels(map, map + ".Incarnation", map + ".Node", map + ".From");
        }
    }

    private static final AccusationLabels SUSPECT_LABELS = AccusationLabels.of("suspect");
    private static final AccusationLabels DEAD_LABELS = AccusationLabels.of("dead");

    /** Reads the {Incarnation, Node, From} map that suspect and dead messages share. */
    private static Message readAccusation(MsgpackReader r, AccusationLabels what, Accusation accusation)
            throws MalformedMessageException {
        int entries = r.readMapHeader(what.map());
        long incarnation = 0;
        String node = "";
        String from = "";
        for (int i = 0; i < entries; i++) {
            switch (r.readKey()) {
                case "Incarnation" -> incarnation = readUint32(r, what.incarnation());
                case "Node" -> node = r.readString(what.node());
                case "From" -> from = r.readString(what.from());
                default -> r.skipValue();
            }
        }
        return accusation.of((int) incarnation, node, from);
    }

    private static Message readAlive(MsgpackReader r, WireLimits limits) throws MalformedMessageException {
        int entries = r.readMapHeader("alive");
        long incarnation = 0;
        String node = "";
        byte[] addr = new byte[0];
        long port = 0;
        byte[] meta = new byte[0];
        byte[] vsn = new byte[0];
        for (int i = 0; i < entries; i++) {
            switch (r.readKey()) {
                case "Incarnation" -> incarnation = readUint32(r, "alive.Incarnation");
                case "Node" -> node = r.readString("alive.Node");
                case "Addr" -> addr = readAddr(r, "alive.Addr");
                case "Port" -> port = readPort(r, "alive.Port");
                case "Meta" -> meta = r.readBytes("alive.Meta", limits.maxMetaBytes());
                case "Vsn" -> vsn = r.readBytes("alive.Vsn", MAX_VSN_BYTES);
                default -> r.skipValue();
            }
        }
        return new Message.Alive((int) incarnation, node, addr, (int) port, meta, vsn);
    }

    static PushNodeState readNodeState(MsgpackReader r, WireLimits limits) throws MalformedMessageException {
        int entries = r.readMapHeader("pushNodeState");
        String name = "";
        byte[] addr = new byte[0];
        long port = 0;
        byte[] meta = new byte[0];
        long incarnation = 0;
        long state = 0;
        byte[] vsn = new byte[0];
        for (int i = 0; i < entries; i++) {
            switch (r.readKey()) {
                case "Name" -> name = r.readString("pushNodeState.Name");
                case "Addr" -> addr = readAddr(r, "pushNodeState.Addr");
                case "Port" -> port = readPort(r, "pushNodeState.Port");
                case "Meta" -> meta = r.readBytes("pushNodeState.Meta", limits.maxMetaBytes());
                case "Incarnation" -> incarnation = readUint32(r, "pushNodeState.Incarnation");
                case "State" -> state = r.readInteger("pushNodeState.State", Integer.MIN_VALUE, Integer.MAX_VALUE);
                case "Vsn" -> vsn = r.readBytes("pushNodeState.Vsn", MAX_VSN_BYTES);
                default -> r.skipValue();
            }
        }
        return new PushNodeState(name, addr, (int) port, meta, (int) incarnation, (int) state, vsn);
    }

    private static long readUint32(MsgpackReader r, String what) throws MalformedMessageException {
        return r.readInteger(what, 0, 0xFFFF_FFFFL);
    }

    private static long readPort(MsgpackReader r, String what) throws MalformedMessageException {
        return r.readInteger(what, 0, 0xFFFF);
    }

    /** An IP address: empty, 4 or 16 bytes (what Go's net.IP holds). */
    private static byte[] readAddr(MsgpackReader r, String what) throws MalformedMessageException {
        byte[] a = r.readBytes(what, 16);
        if (a.length != 0 && a.length != 4 && a.length != 16) {
            throw new MalformedMessageException(Reason.INVALID_BODY,
                    what + " has " + a.length + " bytes; an IP address has 4 or 16");
        }
        return a;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
