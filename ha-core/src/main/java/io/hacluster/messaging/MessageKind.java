package io.hacluster.messaging;

/** What a DATA frame carries; one byte on the wire. */
enum MessageKind {
    /** A plain cluster message. */
    MESSAGE,
    /** A message that expects a reply carrying the same request id. */
    REQUEST,
    /** A successful reply: data is the handler's answer. */
    REPLY,
    /** A failed reply: data is the UTF-8 error text. */
    ERROR_REPLY;

    private static final MessageKind[] VALUES = values();

    static MessageKind of(int code) throws ProtocolException {
        if (code < 0 || code >= VALUES.length) {
            throw new ProtocolException("unknown message kind " + code);
        }
        return VALUES[code];
    }
}
