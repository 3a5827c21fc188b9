package io.hacluster.gossip.wire;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Inputs built to make a decoder trust a length: every one announces far more bytes, entries or
 * nodes than the input holds or the {@link WireLimits} allow, at a site where a decoder reads a
 * length, and also inputs that decompress far beyond their bound.
 */
final class HostileWireInputs {

    private static final WireLimits LIMITS = WireLimits.DEFAULT;

    private HostileWireInputs() {
    }

    // ------------------------------------------------------------------ streams

    /**
     * A stream message whose header announces a length beyond the limits, followed by at most
     * 16 junk bytes: an encrypt length, push/pull node count or user state length, user message
     * length, a str/bin/array/map length in a message body, or a str length in a node state.
     * Two in three carry a label first, one a receiver knows or a random one. Framing must
     * reject each from these bytes alone.
     */
    static byte[] streamHeader(Random random) {
        MsgpackWriter w = new MsgpackWriter(64);
        switch (random.nextInt(3)) {
            case 0 -> { }
            case 1 -> {
                byte[] label = ValidWireInputs.bytes(random, 254);
                w.writeRawByte(MessageType.HAS_LABEL.code()).writeRawByte(label.length + 1)
                        .writeRawBytes(label).writeRawByte('x');
            }
            default -> {
                byte[] label = ValidWireInputs.LABELS.get(random.nextInt(ValidWireInputs.LABELS.size()))
                        .getBytes(StandardCharsets.UTF_8);
                w.writeRawByte(MessageType.HAS_LABEL.code()).writeRawByte(label.length).writeRawBytes(label);
            }
        }
        switch (random.nextInt(6)) {
            case 0 -> w.writeRawByte(MessageType.ENCRYPT.code())
                    .writeRawBytes(be32(above(random, LIMITS.maxPushStateBytes(), 0xFFFF_FFFFL)));
            case 1 -> pushPullHeader(w, random, hostileCount(random, LIMITS.maxPushNodes()), random.nextInt(100));
            case 2 -> pushPullHeader(w, random, random.nextInt(3), hostileCount(random, LIMITS.maxPushStateBytes()));
            case 3 -> {
                w.writeRawByte(MessageType.USER.code());
                w.writeMapHeader(1).writeString("UserMsgLen");
                writeInteger(w, random, hostileCount(random, LIMITS.maxUserMessageBytes()));
            }
            case 4 -> {
                int[] types = {MessageType.PING.code(), MessageType.ACK.code(), MessageType.ERR.code(),
                        MessageType.COMPRESS.code()};
                String[] keys = {"Node", "Payload", "Error", "Buf", "Unknown"};
                w.writeRawByte(types[random.nextInt(types.length)]);
                String key = keys[random.nextInt(keys.length)];
                w.writeMapHeader(1 + random.nextInt(3)).writeString(key);
                hostileValueHeader(w, random, LIMITS.maxStreamMessageBytes(), key.equals("Unknown"));
            }
            default -> {
                int nodes = 1 + random.nextInt(8);
                pushPullHeader(w, random, nodes, random.nextInt(100));
                w.writeMapHeader(7).writeString("Name");
                hostileValueHeader(w, random, LIMITS.maxPushStateBytes(), false);
            }
        }
        w.writeRawBytes(ValidWireInputs.bytes(random, 16));
        return w.toByteArray();
    }

    private static void pushPullHeader(MsgpackWriter w, Random random, long nodes, long userStateLen) {
        w.writeRawByte(MessageType.PUSH_PULL.code());
        boolean extra = random.nextBoolean();
        w.writeMapHeader(extra ? 4 : 3);
        List<Runnable> entries = new ArrayList<>(List.of(
                () -> w.writeString("Join").writeBool(random.nextBoolean()),
                () -> writeInteger(w.writeString("Nodes"), random, nodes),
                () -> writeInteger(w.writeString("UserStateLen"), random, userStateLen)));
        if (extra) {
            entries.add(() -> w.writeString("Other").writeBytes(ValidWireInputs.bytes(random, 8)));
        }
        Collections.shuffle(entries, random);
        entries.forEach(Runnable::run);
    }

    /** Above {@code limit}, or negative; within 64 bits so it is a length, not an overflow. */
    private static long hostileCount(Random random, int limit) {
        return switch (random.nextInt(4)) {
            case 0 -> limit + 1L;
            case 1 -> -1 - random.nextInt(Integer.MAX_VALUE);
            case 2 -> Long.MAX_VALUE - random.nextInt(1000);
            default -> above(random, limit, 0xFFFF_FFFFL);
        };
    }

    /**
     * The header of a str or bin, or when {@code anyType} also of an array or map (what an
     * unknown key's value may be), whose content would end beyond {@code bound}.
     */
    private static void hostileValueHeader(MsgpackWriter w, Random random, int bound, boolean anyType) {
        switch (random.nextInt(anyType ? 4 : 2)) {
            case 0 -> w.writeRawByte(0xdb).writeRawBytes(be32(above(random, bound, 0xFFFF_FFFFL)));
            case 1 -> w.writeRawByte(0xc6).writeRawBytes(be32(above(random, bound, 0xFFFF_FFFFL)));
            case 2 -> w.writeRawByte(0xdd).writeRawBytes(be32(above(random, bound, 0xFFFF_FFFFL)));
            default -> w.writeRawByte(0xdf).writeRawBytes(be32(above(random, bound, 0xFFFF_FFFFL)));
        }
    }

    /** Writes an integer the way a hostile (or Go) encoder might: signed or unsigned widths. */
    private static void writeInteger(MsgpackWriter w, Random random, long value) {
        if (value >= 0 && random.nextBoolean()) {
            w.writeUnsigned(value);
        } else {
            w.writeSigned(value);
        }
    }

    // ------------------------------------------------------------------ packets

    /**
     * A packet, wrapped by a random {@link ValidWireInputs#sender}, whose payload announces more
     * than it holds: a str/bin field, a map, an unknown key's array or map, a compress buffer
     * with a 32-bit length up to 4 GiB; or a compound whose part lengths or count run past its
     * end.
     */
    static byte[] packet(Random random) {
        byte[] payload;
        if (random.nextInt(4) == 0) {
            payload = overlongCompound(random);
        } else {
            MsgpackWriter w = new MsgpackWriter(64);
            int[] types = {MessageType.PING.code(), MessageType.ACK.code(), MessageType.ALIVE.code(),
                    MessageType.SUSPECT.code(), MessageType.DEAD.code(), MessageType.COMPRESS.code()};
            String[] keys = {"Node", "Payload", "Meta", "From", "Buf", "Addr", "Vsn", "Unknown"};
            w.writeRawByte(types[random.nextInt(types.length)]);
            if (random.nextInt(5) == 0) {
                w.writeRawByte(random.nextBoolean() ? 0xdf : 0xde)
                        .writeRawBytes(be32(0xFFFF_FFFFL - random.nextInt(1000)));
            } else {
                String key = keys[random.nextInt(keys.length)];
                w.writeMapHeader(1 + random.nextInt(6)).writeString(key);
                hostileValueHeader(w, random, 1400, key.equals("Unknown"));
            }
            w.writeRawBytes(ValidWireInputs.bytes(random, 64));
            payload = w.toByteArray();
        }
        return Packets.wrap(payload, random.nextBoolean(), ValidWireInputs.sender(random));
    }

    /**
     * Valid parts, one of which announces up to 64 KiB more than the compound holds; or the
     * compound cut inside its last part.
     */
    private static byte[] overlongCompound(Random random) {
        List<byte[]> parts = new ArrayList<>(ValidWireInputs.packetMessages(random));
        if (parts.size() == 1) {
            parts.add(Codec.encode(new Message.Nack(random.nextInt())));
        }
        byte[] compound = Packets.compound(parts);
        if (random.nextBoolean()) {
            int hostilePart = random.nextInt(parts.size());
            compound[2 + 2 * hostilePart] = (byte) 0xFF;
            compound[3 + 2 * hostilePart] = (byte) (0xF0 | random.nextInt(16));
            return compound;
        }
        int last = parts.get(parts.size() - 1).length;
        return Arrays.copyOf(compound, compound.length - 1 - random.nextInt(last));
    }

    // ------------------------------------------------------------------ decompression bombs

    /** LZW's clear and end codes, and the first code the table assigns (Go's litWidth 8). */
    private static final int CLEAR = 256;
    private static final int EOF = 257;
    private static final int LAST_CODE = 4095;

    /**
     * Hand-made LZW data that expands as fast as LZW can: per round, the literal 0 and then
     * every new code in turn, each the previous expansion plus one zero byte (codes 258 to
     * 4094: about 7.3 MB of zeros from 5.5 KB), then a clear code. {@code rounds} rounds
     * expand to {@code rounds} times that. An encoder never needs to be run, so a bomb of
     * hundreds of MiB costs nothing to build.
     */
    static byte[] lzwBomb(int rounds) {
        BitSink out = new BitSink();
        int width = 9;
        for (int round = 0; round < rounds; round++) {
            width = 9;
            int overflow = 1 << width;
            int next = EOF;
            for (int code = 0; next < LAST_CODE; code = next) {
                out.write(code, width);
                next++;
                if (next >= overflow && width < 12) {
                    width++;
                    overflow <<= 1;
                }
            }
            out.write(CLEAR, width);
            width = 9;
        }
        out.write(EOF, width);
        return out.finish();
    }

    /** How many zero bytes {@link #lzwBomb} expands to. */
    static long lzwBombExpansion(int rounds) {
        long codes = LAST_CODE - EOF;
        return rounds * codes * (codes + 1) / 2;
    }

    /**
     * A packet carrying LZW data that expands far beyond
     * {@link WireLimits#maxPacketDecompressedBytes()}: alone, in a compound, nested in another
     * compress message, or as several compressed parts of one compound that only together
     * exceed the bound.
     */
    static byte[] packetBomb(Random random) {
        int bound = LIMITS.maxPacketDecompressedBytes();
        // At most 11 rounds (about 60 KB), so the bomb fits one compound part.
        byte[] bomb = lzwBomb(4 + random.nextInt(8));
        byte[] payload = switch (random.nextInt(4)) {
            case 0 -> Codec.encodeCompress(bomb);
            case 1 -> Packets.compound(List.of(Codec.encode(new Message.Nack(1)), Codec.encodeCompress(bomb)));
            case 2 -> Codec.encodeCompress(Lzw.compress(Codec.encodeCompress(bomb)));
            default -> {
                byte[] user = new byte[bound / 3 + 1];
                byte[] part = Codec.encodeCompress(Lzw.compress(Codec.encode(new Message.User(user))));
                yield Packets.compound(List.of(part, part, part, part));
            }
        };
        return Packets.wrap(payload, random.nextBoolean(), ValidWireInputs.sender(random));
    }

    /** A stream whose compress message expands far beyond 40 MiB. */
    static byte[] streamBomb(Random random) {
        byte[] compress = Codec.encodeCompress(lzwBomb(6 + random.nextInt(15)));
        return Streams.wrap(compress, ValidWireInputs.sender(random).withCompression(false));
    }

    /** Packs codes least significant bit first, as LZW data is laid out. */
    private static final class BitSink {
        private byte[] buf = new byte[1024];
        private int size;
        private long bits;
        private int count;

        void write(int code, int width) {
            bits |= (long) code << count;
            count += width;
            while (count >= 8) {
                if (size == buf.length) {
                    buf = Arrays.copyOf(buf, size * 2);
                }
                buf[size++] = (byte) bits;
                bits >>>= 8;
                count -= 8;
            }
        }

        byte[] finish() {
            if (count > 0) {
                write(0, 8 - count);
            }
            return Arrays.copyOf(buf, size);
        }
    }

    // ------------------------------------------------------------------ helpers

    /** A value in {@code (floor, ceiling]}, often right at the edge. */
    private static long above(Random random, long floor, long ceiling) {
        return random.nextBoolean() ? floor + 1 : floor + 1 + (long) (random.nextDouble() * (ceiling - floor - 1));
    }

    private static byte[] be32(long v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }
}
