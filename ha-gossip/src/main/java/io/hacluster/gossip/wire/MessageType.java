package io.hacluster.gossip.wire;

/**
 * The first byte of every memberlist packet or stream message. Values are memberlist's
 * {@code messageType} constants and must never change: they are the wire format.
 */
public enum MessageType {
    PING(0),
    INDIRECT_PING(1),
    ACK(2),
    SUSPECT(3),
    ALIVE(4),
    DEAD(5),
    PUSH_PULL(6),
    COMPOUND(7),
    USER(8),
    COMPRESS(9),
    ENCRYPT(10),
    NACK(11),
    HAS_CRC(12),
    ERR(13),
    /** Not a message body: the prefix {@code [244][len][label]} of a labelled packet or stream. */
    HAS_LABEL(244);

    private static final MessageType[] BY_CODE = new MessageType[256];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    /** The byte on the wire. */
    public int code() {
        return code;
    }

    /** The type for a wire byte, or {@code null} when the byte is not a known type. */
    public static MessageType fromCode(int code) {
        return BY_CODE[code & 0xFF];
    }
}
