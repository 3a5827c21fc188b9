package io.hacluster.gossip.wire;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Random valid memberlist packets, stream messages and LZW data, built with this package's own
 * encoders: the starting points the hostile-input properties mutate. Every message uses non-null
 * fields, so decoding and re-encoding it gives back the same bytes.
 *
 * <p>Senders and receivers come in matching pairs: every {@link #sender} wraps with a label and
 * key that one of the {@link #RECEIVERS} accepts, so a mutation can reach the decoders behind
 * the label check, the CRC, the cipher and the compression.
 */
final class ValidWireInputs {

    private static final byte[] KEY = {
            0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x07, 0x18, 0x29, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e, 0x0f};
    private static final String LABEL = "prod";
    private static final String ENCRYPTED_LABEL = "sec";
    /** Name fragments: ASCII, two-, three- and four-byte UTF-8 (the last a surrogate pair in Java). */
    private static final String[] NAME_PIECES =
            {"node", "-", "a", "z", "0", "9", ".", "_", "é", "ß", "节点", "🙂"};

    /** The labels some receiver accepts ({@code ""} is none). */
    static final List<String> LABELS = List.of(LABEL, ENCRYPTED_LABEL);

    /** Plain; labelled; labelled and encrypted; encrypted but accepting plaintext too. */
    static final List<WireOptions> RECEIVERS = List.of(
            WireOptions.DEFAULT,
            WireOptions.DEFAULT.withLabel(LABEL),
            WireOptions.DEFAULT.withLabel(ENCRYPTED_LABEL).withCipher(TestCiphers.aesGcm(KEY)),
            new WireOptions("", false, TestCiphers.aesGcm(KEY), false, true, true, WireLimits.DEFAULT));

    private ValidWireInputs() {
    }

    /** A sender some receiver accepts; encrypting senders draw their nonces from {@code random}. */
    static WireOptions sender(Random random) {
        boolean compress = random.nextBoolean();
        WireOptions plain = WireOptions.DEFAULT.withCompression(compress);
        return switch (random.nextInt(4)) {
            case 0 -> plain;
            case 1 -> plain.withLabel(LABEL);
            case 2 -> plain.withLabel(ENCRYPTED_LABEL).withCipher(new SeededNonceCipher(KEY, random.nextLong()));
            default -> plain.withCipher(new SeededNonceCipher(KEY, random.nextLong()));
        };
    }

    /** The receiver that accepts what {@code sender} wraps. */
    static WireOptions receiverFor(WireOptions sender) {
        if (sender.cipher() == null) {
            return sender.label().isEmpty() ? RECEIVERS.get(0) : RECEIVERS.get(1);
        }
        return sender.label().isEmpty() ? RECEIVERS.get(3) : RECEIVERS.get(2);
    }

    // ------------------------------------------------------------------ packets

    /** One message of a type a packet may carry. */
    static Message packetMessage(Random random) {
        return switch (random.nextInt(8)) {
            case 0 -> new Message.Ping(random.nextInt(), name(random), address(random),
                    random.nextInt(0x10000), name(random));
            case 1 -> new Message.IndirectPing(random.nextInt(), ipAddress(random), random.nextInt(0x10000),
                    name(random), random.nextBoolean(), address(random), random.nextInt(0x10000), name(random));
            case 2 -> new Message.Ack(random.nextInt(), bytes(random, 200));
            case 3 -> new Message.Nack(random.nextInt());
            case 4 -> new Message.Suspect(random.nextInt(), name(random), name(random));
            case 5 -> new Message.Alive(random.nextInt(), name(random), ipAddress(random),
                    random.nextInt(0x10000), bytes(random, 512), vsn(random));
            case 6 -> new Message.Dead(random.nextInt(), name(random), name(random));
            default -> new Message.User(bytes(random, 300));
        };
    }

    /** One to twelve encoded packet messages. */
    static List<byte[]> packetMessages(Random random) {
        int count = random.nextInt(3) == 0 ? 1 : 2 + random.nextInt(11);
        List<byte[]> messages = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            messages.add(Codec.encode(packetMessage(random)));
        }
        return messages;
    }

    /** What a sender hands to {@link Packets#wrap}: a lone message or a compound. */
    static byte[] packetPayload(List<byte[]> messages) {
        return messages.size() == 1 ? messages.get(0) : Packets.compound(messages);
    }

    /** A whole valid packet as it arrives from the network. */
    static byte[] packet(Random random) {
        return Packets.wrap(packetPayload(packetMessages(random)), random.nextBoolean(), sender(random));
    }

    // ------------------------------------------------------------------ streams

    /** One plain stream message: push/pull, user message, ping, ack or error reply. */
    static byte[] streamMessage(Random random) {
        return switch (random.nextInt(5)) {
            case 0 -> Codec.encodePushPull(pushPull(random));
            case 1 -> Codec.encodeUserStream(bytes(random, 1500));
            case 2 -> Codec.encode(new Message.Ping(random.nextInt(), name(random), address(random),
                    random.nextInt(0x10000), name(random)));
            case 3 -> Codec.encode(new Message.Ack(random.nextInt(), bytes(random, 200)));
            default -> Codec.encode(new Message.Err(name(random)));
        };
    }

    static PushPull pushPull(Random random) {
        int count = random.nextInt(9);
        List<PushNodeState> nodes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int state = random.nextInt(5) == 0 ? random.nextInt() : random.nextInt(4);
            nodes.add(new PushNodeState(name(random), ipAddress(random), random.nextInt(0x10000),
                    bytes(random, 512), random.nextInt(), state, vsn(random)));
        }
        return new PushPull(random.nextBoolean(), nodes, bytes(random, 1500));
    }

    /** A whole valid stream message as written on a connection. */
    static byte[] stream(Random random) {
        return Streams.wrap(streamMessage(random), sender(random));
    }

    // ------------------------------------------------------------------ LZW

    /** Data worth compressing: random, zeros, a repeated pattern, or an encoded message. */
    static byte[] lzwPlaintext(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> bytes(random, 3000);
            case 1 -> new byte[random.nextInt(20_000)];
            case 2 -> {
                byte[] pattern = bytes(random, 40);
                byte[] out = new byte[random.nextInt(6000)];
                for (int i = 0; i < out.length && pattern.length > 0; i++) {
                    out[i] = pattern[i % pattern.length];
                }
                yield out;
            }
            default -> streamMessage(random);
        };
    }

    // ------------------------------------------------------------------ fields

    static byte[] bytes(Random random, int maxLength) {
        byte[] b = new byte[random.nextInt(maxLength + 1)];
        random.nextBytes(b);
        return b;
    }

    private static String name(Random random) {
        StringBuilder s = new StringBuilder();
        int pieces = random.nextInt(12);
        for (int i = 0; i < pieces; i++) {
            s.append(NAME_PIECES[random.nextInt(NAME_PIECES.length)]);
        }
        return s.toString();
    }

    /** Empty, IPv4 or IPv6. */
    private static byte[] address(Random random) {
        return random.nextInt(3) == 0 ? new byte[0] : ipAddress(random);
    }

    private static byte[] ipAddress(Random random) {
        byte[] a = new byte[random.nextBoolean() ? 4 : 16];
        random.nextBytes(a);
        return a;
    }

    private static byte[] vsn(Random random) {
        byte[] v = Arrays.copyOf(new byte[] {1, 5, 2, 2, 5, 4}, Codec.VSN_LENGTH);
        v[2] = (byte) (1 + random.nextInt(5));
        return v;
    }
}
