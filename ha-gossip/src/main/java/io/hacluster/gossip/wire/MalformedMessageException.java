package io.hacluster.gossip.wire;

/**
 * The single error every decoder in this package raises for bytes that are not a valid
 * memberlist packet or stream message: truncated, over a size bound, of an unknown type, with a
 * bad checksum, a wrong label, an undecryptable payload or an invalid msgpack body.
 *
 * <p>It is checked on purpose: network input is hostile, and whoever reads bytes from a peer
 * must decide to drop and count them rather than let an exception escape onto an I/O thread.
 * The {@link Reason} lets callers count drops by kind without parsing messages. No stack trace
 * is filled in: these are expected events on a hot path, not bugs.
 */
public final class MalformedMessageException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why the input was rejected; stable, suitable as a metrics label. */
    public enum Reason {
        /** The input ended before a length, header or body it announced. */
        TRUNCATED,
        /** A length, count or expansion exceeds a {@link WireLimits} bound. */
        TOO_LARGE,
        /** A type byte that is unknown or not allowed in this position. */
        UNKNOWN_TYPE,
        /** The msgpack body does not have the expected shape. */
        INVALID_BODY,
        /** The CRC32 of a {@code hasCrc} packet does not match. */
        BAD_CHECKSUM,
        /** The packet or stream label differs from the expected one. */
        LABEL_MISMATCH,
        /** Encryption is expected but missing, or decryption failed. */
        ENCRYPTION,
        /** The LZW data or the compress wrapper is invalid. */
        COMPRESSION
    }

    private final Reason reason;

    /** Creates an exception with a reason and a message that says what was wrong and where. */
    public MalformedMessageException(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    /** Why the input was rejected. */
    public Reason reason() {
        return reason;
    }
}
