package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;

import java.nio.ByteBuffer;

/**
 * Tells a stream reader when one complete memberlist stream message has arrived. memberlist
 * streams carry no length prefix: the Go side reads the msgpack values it expects straight off
 * the connection. This class walks the same structure over the bytes received so far:
 * <ul>
 *   <li>optional label {@code [244][len][label]};</li>
 *   <li>{@code encrypt}: {@code [10][u32 BE length][ciphertext]};</li>
 *   <li>{@code compress}: {@code [9]} and one msgpack value (the compress map);</li>
 *   <li>{@code pushPull}: {@code [6]}, the header map, {@code Nodes} node-state maps, then
 *       {@code UserStateLen} raw bytes;</li>
 *   <li>{@code user}: {@code [8]}, the {@code userMsgHeader} map, then {@code UserMsgLen} raw bytes;</li>
 *   <li>{@code ping}, {@code ack}, {@code err}: the type byte and one msgpack map.</li>
 * </ul>
 * Every announced length is checked against {@link WireLimits} before waiting for it, so a
 * hostile length fails at once ({@link MalformedMessageException}) rather than holding a buffer
 * open; the caller should still bound the time it waits.
 *
 * <p>One instance follows one stream message and is not thread-safe. It remembers how far it has
 * validated, so feeding a growing buffer costs time linear in the message size overall.
 * Typical use from a Netty decoder:
 * <pre>{@code
 * int n = framing.frameLength(cumulation.nioBuffer(cumulation.readerIndex(), cumulation.readableBytes()));
 * if (n != StreamFraming.NEED_MORE) { byte[] frame = new byte[n]; cumulation.readBytes(frame); ... }
 * }</pre>
 */
public final class StreamFraming {

    /** Returned while the message is incomplete. */
    public static final int NEED_MORE = -1;

    /** Largest header map accepted ({@code pushPullHeader}, {@code userMsgHeader}); real ones are ~40 bytes. */
    static final int MAX_HEADER_BYTES = 1024;

    private enum Phase { START, TYPE, ONE_VALUE, PUSH_HEADER, PUSH_NODES, USER_HEADER, FIXED_END, DONE }

    private final WireLimits limits;
    private Phase phase = Phase.START;
    private int cursor;
    private int minNeeded = 1;
    private int nodesLeft;
    private int nodesStart;
    private int tailLength;
    private int frameEnd;

    /** A framer bounded by {@code limits}. */
    public StreamFraming(WireLimits limits) {
        this.limits = limits;
    }

    /** Forgets the current message, to frame the next one from a fresh buffer start. */
    public void reset() {
        phase = Phase.START;
        cursor = 0;
        minNeeded = 1;
        nodesLeft = 0;
        nodesStart = 0;
        tailLength = 0;
        frameEnd = 0;
    }

    /** As {@link #frameLength(ByteBuffer)} over {@code received[0, length)}. */
    public int frameLength(byte[] received, int length) throws MalformedMessageException {
        return frameLength(ByteBuffer.wrap(received, 0, length));
    }

    /**
     * Examines the bytes from {@code received.position()} to its limit, which must be the stream's
     * bytes from its first byte on (the same prefix, grown, on each call). Does not move the
     * buffer's position.
     *
     * @return the length of the complete message, label included, or {@link #NEED_MORE}
     * @throws MalformedMessageException when the bytes can never form a valid, bounded message
     */
    public int frameLength(ByteBuffer received) throws MalformedMessageException {
        ByteBuffer b = received.slice();
        int avail = b.remaining();
        if (phase == Phase.DONE) {
            return frameEnd;
        }
        if (avail < minNeeded) {
            return NEED_MORE;
        }
        long maxEnd = limits.maxStreamMessageBytes();
        while (true) {
            switch (phase) {
                case START -> {
                    if ((b.get(0) & 0xFF) == MessageType.HAS_LABEL.code()) {
                        if (avail < 2) {
                            return needMore(2);
                        }
                        int size = b.get(1) & 0xFF;
                        if (size < 1) {
                            throw new MalformedMessageException(Reason.INVALID_BODY,
                                    "label header cannot be empty when present");
                        }
                        cursor = 2 + size;
                    } else {
                        cursor = 0;
                    }
                    phase = Phase.TYPE;
                }
                case TYPE -> {
                    if (avail < cursor + 1) {
                        return needMore(cursor + 1);
                    }
                    int type = b.get(cursor) & 0xFF;
                    if (type == MessageType.ENCRYPT.code()) {
                        if (avail < cursor + 5) {
                            return needMore(cursor + 5);
                        }
                        long len = b.getInt(cursor + 1) & 0xFFFF_FFFFL;
                        if (len > limits.maxPushStateBytes()) {
                            throw new MalformedMessageException(Reason.TOO_LARGE, "encrypted stream of "
                                    + len + " bytes exceeds " + limits.maxPushStateBytes());
                        }
                        tailLength = (int) len;
                        cursor += 5;
                        phase = Phase.FIXED_END;
                    } else if (type == MessageType.COMPRESS.code() || type == MessageType.PING.code()
                            || type == MessageType.ACK.code() || type == MessageType.ERR.code()) {
                        cursor += 1;
                        phase = Phase.ONE_VALUE;
                    } else if (type == MessageType.PUSH_PULL.code()) {
                        cursor += 1;
                        phase = Phase.PUSH_HEADER;
                    } else if (type == MessageType.USER.code()) {
                        cursor += 1;
                        phase = Phase.USER_HEADER;
                    } else {
                        throw new MalformedMessageException(Reason.UNKNOWN_TYPE,
                                "message type " + type + " is not valid on a stream");
                    }
                }
                case ONE_VALUE -> {
                    int end = MsgpackScanner.valueEnd(b, cursor, avail, maxEnd);
                    if (end < 0) {
                        return needMore(-end);
                    }
                    frameEnd = end;
                    phase = Phase.DONE;
                    return frameEnd;
                }
                case PUSH_HEADER, USER_HEADER -> {
                    int end = MsgpackScanner.valueEnd(b, cursor, avail, cursor + (long) MAX_HEADER_BYTES);
                    if (end < 0) {
                        return needMore(-end);
                    }
                    byte[] header = new byte[end - cursor];
                    b.get(cursor, header);
                    MsgpackReader r = new MsgpackReader(header, 0, header.length);
                    if (phase == Phase.PUSH_HEADER) {
                        PushPullHeader h = Codec.readPushPullHeader(r, limits);
                        nodesLeft = h.nodes();
                        tailLength = h.userStateLen();
                        nodesStart = end;
                        phase = Phase.PUSH_NODES;
                    } else {
                        tailLength = Codec.readUserMsgLen(r, limits);
                        phase = Phase.FIXED_END;
                    }
                    cursor = end;
                }
                case PUSH_NODES -> {
                    long nodesMaxEnd = Math.min(maxEnd, (long) nodesStart + limits.maxPushStateBytes());
                    if ((long) cursor + nodesLeft > nodesMaxEnd) {
                        throw new MalformedMessageException(Reason.TOO_LARGE,
                                nodesLeft + " more node states cannot fit the push/pull bound");
                    }
                    while (nodesLeft > 0) {
                        int end = MsgpackScanner.valueEnd(b, cursor, avail, nodesMaxEnd);
                        if (end < 0) {
                            return needMore(-end);
                        }
                        cursor = end;
                        nodesLeft--;
                    }
                    phase = Phase.FIXED_END;
                }
                case FIXED_END -> {
                    long end = (long) cursor + tailLength;
                    if (end > maxEnd) {
                        throw new MalformedMessageException(Reason.TOO_LARGE, "stream message of "
                                + end + " bytes exceeds " + maxEnd);
                    }
                    if (avail < end) {
                        return needMore((int) end);
                    }
                    frameEnd = (int) end;
                    phase = Phase.DONE;
                    return frameEnd;
                }
                case DONE -> {
                    return frameEnd;
                }
                default -> throw new IllegalStateException(phase.name());
            }
        }
    }

    private int needMore(int needed) throws MalformedMessageException {
        if (needed > limits.maxStreamMessageBytes()) {
            throw new MalformedMessageException(Reason.TOO_LARGE, "stream message of at least "
                    + needed + " bytes exceeds " + limits.maxStreamMessageBytes());
        }
        minNeeded = needed;
        return NEED_MORE;
    }
}
