package io.hacluster.gossip;

import io.hacluster.gossip.wire.Codec;
import io.hacluster.gossip.wire.MalformedMessageException;
import io.hacluster.gossip.wire.Message;
import io.hacluster.gossip.wire.MessageType;
import io.hacluster.gossip.wire.Packets;
import io.hacluster.gossip.wire.PushPull;
import io.hacluster.gossip.wire.Streams;
import io.hacluster.gossip.wire.UnwrappedPacket;
import io.hacluster.gossip.wire.WireOptions;

import java.util.List;

/**
 * The state machine's view of the wire package: memberlist messages to bytes and back, for
 * packets (compound, compression, CRC, encryption, label) and streams (push/pull, TCP ping,
 * user messages). Stateless and thread-safe; bad input only ever raises
 * {@link MalformedMessageException}.
 */
final class WireCodec {

    private final WireOptions options;
    private final int packetOverhead;

    WireCodec(WireOptions options, int udpBufferSize) {
        this.options = options;
        this.packetOverhead = udpBufferSize - Packets.payloadBudget(udpBufferSize, options);
    }

    /** Options from a gossip configuration: label, label check, compression, encryption. */
    static WireCodec forConfig(GossipConfig config) {
        WireOptions o = WireOptions.DEFAULT.withLabel(config.label()).withCompression(config.enableCompression());
        o = new WireOptions(o.label(), config.skipInboundLabelCheck(),
                config.keyring() == null ? null : config.keyring().cipherFor(config.protocolVersion()),
                config.gossipVerifyIncoming(), config.gossipVerifyOutgoing(), o.compress(), o.limits());
        return new WireCodec(o, config.udpBufferSize());
    }

    /** One message: type byte then msgpack body ({@code user}: the raw payload). */
    byte[] encode(Message message) {
        return Codec.encode(message);
    }

    /** A compound of 1..255 encoded messages. */
    byte[] compound(List<byte[]> messages) {
        return Packets.compound(messages);
    }

    /** Wraps a message or compound for one datagram (compression, CRC, encryption, label). */
    byte[] packet(byte[] message, boolean crc) {
        return Packets.wrap(message, crc, options);
    }

    /**
     * Bytes the packet wrappers may add beyond the message (label, encryption, CRC), subtracted
     * from UDPBufferSize when filling a packet so that no datagram exceeds it.
     */
    int packetOverhead() {
        return packetOverhead;
    }

    /** Unwraps a datagram into its plain messages, compounds flattened. */
    UnwrappedPacket unwrapPacket(byte[] packet) throws MalformedMessageException {
        return Packets.unwrap(packet, options);
    }

    /** Decodes one plain message from a packet. */
    Message decode(byte[] message) throws MalformedMessageException {
        return Codec.decode(message, options.limits());
    }

    /** A push/pull stream message, wrapped for the connection. */
    byte[] pushPullStream(PushPull pushPull) {
        return Streams.wrap(Codec.encodePushPull(pushPull), options);
    }

    /** A stream carrying one ping, ack, err or user message, wrapped for the connection. */
    byte[] stream(Message message) {
        byte[] plain = message instanceof Message.User u ? Codec.encodeUserStream(u.payload()) : Codec.encode(message);
        return Streams.wrap(plain, options);
    }

    /** Decodes one stream message: a {@link PushPull} or a {@link Message}. */
    Object decodeStream(byte[] frame) throws MalformedMessageException {
        byte[] plain = Streams.unwrap(frame, options);
        MessageType type = Codec.typeOf(plain);
        if (type == MessageType.PUSH_PULL) {
            return Codec.decodePushPull(plain, options.limits());
        }
        if (type == MessageType.USER) {
            return new Message.User(Codec.decodeUserStream(plain, options.limits()));
        }
        return Codec.decode(plain, options.limits());
    }
}
