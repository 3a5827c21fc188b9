package io.hacluster.gossip.wire;

/**
 * A decoded memberlist message body. Each record mirrors one of memberlist's msgpack structs,
 * field for field; the msgpack map keys are the Go field names given in each record's Javadoc.
 * Addresses are raw IP bytes (4 or 16), ports are unsigned 16-bit values held in an int,
 * sequence numbers and incarnations are unsigned 32-bit values held in an int.
 */
public sealed interface Message
        permits Message.Ping, Message.IndirectPing, Message.Ack, Message.Nack, Message.Err,
                Message.Suspect, Message.Alive, Message.Dead, Message.User {

    /** The type byte this body is sent under. */
    MessageType type();

    /** {@code ping}: keys SeqNo, Node, SourceAddr, SourcePort, SourceNode. */
    record Ping(int seqNo, String node, byte[] sourceAddr, int sourcePort, String sourceNode)
            implements Message {
        public MessageType type() { return MessageType.PING; }
    }

    /** {@code indirectPingReq}: keys SeqNo, Target, Port, Node, Nack, SourceAddr, SourcePort, SourceNode. */
    record IndirectPing(int seqNo, byte[] target, int port, String node, boolean nack,
                        byte[] sourceAddr, int sourcePort, String sourceNode) implements Message {
        public MessageType type() { return MessageType.INDIRECT_PING; }
    }

    /** {@code ackResp}: keys SeqNo, Payload. */
    record Ack(int seqNo, byte[] payload) implements Message {
        public MessageType type() { return MessageType.ACK; }
    }

    /** {@code nackResp}: key SeqNo. */
    record Nack(int seqNo) implements Message {
        public MessageType type() { return MessageType.NACK; }
    }

    /** {@code errResp}: key Error. */
    record Err(String error) implements Message {
        public MessageType type() { return MessageType.ERR; }
    }

    /** {@code suspect}: keys Incarnation, Node, From. */
    record Suspect(int incarnation, String node, String from) implements Message {
        public MessageType type() { return MessageType.SUSPECT; }
    }

    /**
     * {@code alive}: keys Incarnation, Node, Addr, Port, Meta, Vsn. {@code vsn} is six bytes:
     * protocol min, max, current, delegate min, max, current.
     */
    record Alive(int incarnation, String node, byte[] addr, int port, byte[] meta, byte[] vsn)
            implements Message {
        public MessageType type() { return MessageType.ALIVE; }
    }

    /** {@code dead}: keys Incarnation, Node, From. A dead message whose From equals Node is a graceful leave. */
    record Dead(int incarnation, String node, String from) implements Message {
        public MessageType type() { return MessageType.DEAD; }
    }

    /** {@code userMsg}: the raw application payload, no msgpack body. */
    record User(byte[] payload) implements Message {
        public MessageType type() { return MessageType.USER; }
    }
}
