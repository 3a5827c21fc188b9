package io.hacluster.gossip.wire;

import java.util.Arrays;
import java.util.Random;

/**
 * Corrupts valid wire bytes the ways a hostile or broken peer would: flipped bits, bytes set to
 * values that mean something to the decoders (type codes, msgpack length markers), lengths
 * overwritten with huge values, cuts, insertions, deletions, duplicated ranges and splices with
 * another valid input. One to three mutations are stacked per input; positions favour the first
 * bytes, where the headers and length prefixes are.
 */
final class ByteMutator {

    /**
     * Bytes the decoders branch on: msgpack 16/32-bit str, bin, array and map headers, uint64,
     * nil, the reserved 0xc1; memberlist type codes (compound 7, compress 9, encrypt 10, crc 12,
     * label 244); and the extremes.
     */
    private static final byte[] MEANINGFUL = {
            (byte) 0x00, (byte) 0xff, (byte) 0x7f, (byte) 0x80, (byte) 0xc0, (byte) 0xc1,
            (byte) 0xc4, (byte) 0xc5, (byte) 0xc6, (byte) 0xd9, (byte) 0xda, (byte) 0xdb,
            (byte) 0xdc, (byte) 0xdd, (byte) 0xde, (byte) 0xdf, (byte) 0xcf, (byte) 0xd3,
            6, 7, 8, 9, 10, 12, (byte) 244};

    /** Values written over 2- or 4-byte big-endian lengths: bounds, bounds plus one, maxima. */
    private static final long[] HOSTILE_LENGTHS = {
            0xFFFF, 0x7FFF, 0x8000, 0xFFFF_FFFFL, 0x7FFF_FFFFL, 0x8000_0000L,
            20 * 1024 * 1024, 20 * 1024 * 1024 + 1, 40 * 1024 * 1024 + 1, 64 * 1024 * 1024 + 1,
            1024 * 1024, 1024 * 1024 + 1, 4096, 4097};

    private ByteMutator() {
    }

    /** One to three stacked mutations of {@code valid}; {@code donor} may be spliced in. */
    static byte[] mutate(byte[] valid, byte[] donor, Random random) {
        int roll = random.nextInt(100);
        int mutations = roll < 60 ? 1 : roll < 85 ? 2 : 3;
        byte[] b = valid.clone();
        for (int i = 0; i < mutations; i++) {
            b = mutateOnce(b, donor, random);
        }
        return b;
    }

    private static byte[] mutateOnce(byte[] b, byte[] donor, Random random) {
        if (b.length == 0) {
            return new byte[] {meaningful(random)};
        }
        int at = position(b.length, random);
        switch (random.nextInt(9)) {
            case 0 -> {
                int bits = 1 + random.nextInt(8);
                for (int i = 0; i < bits; i++) {
                    int p = Math.min(b.length - 1, at + random.nextInt(8));
                    b[p] ^= (byte) (1 << random.nextInt(8));
                }
                return b;
            }
            case 1 -> {
                int count = 1 + random.nextInt(8);
                for (int i = 0; i < count && at + i < b.length; i++) {
                    b[at + i] = random.nextBoolean() ? meaningful(random) : (byte) random.nextInt(256);
                }
                return b;
            }
            case 2 -> {
                return Arrays.copyOf(b, at);
            }
            case 3 -> {
                byte[] inserted = new byte[1 + random.nextInt(8)];
                for (int i = 0; i < inserted.length; i++) {
                    inserted[i] = random.nextBoolean() ? meaningful(random) : (byte) random.nextInt(256);
                }
                return splice(b, at, 0, inserted);
            }
            case 4 -> {
                int cut = Math.min(b.length - at, 1 + random.nextInt(16));
                return splice(b, at, cut, new byte[0]);
            }
            case 5 -> {
                int width = random.nextBoolean() ? 2 : 4;
                long value = HOSTILE_LENGTHS[random.nextInt(HOSTILE_LENGTHS.length)];
                for (int i = 0; i < width && at + i < b.length; i++) {
                    b[at + i] = (byte) (value >>> (8 * (width - 1 - i)));
                }
                return b;
            }
            case 6 -> {
                int len = Math.min(b.length - at, 1 + random.nextInt(64));
                return splice(b, at + len, 0, Arrays.copyOfRange(b, at, at + len));
            }
            case 7 -> {
                if (donor.length == 0) {
                    return Arrays.copyOf(b, at);
                }
                int from = random.nextInt(donor.length);
                byte[] tail = Arrays.copyOfRange(donor, from, Math.min(donor.length, from + 1 + random.nextInt(256)));
                return splice(b, at, random.nextInt(b.length - at + 1), tail);
            }
            default -> {
                b[at] = (byte) random.nextInt(256);
                return b;
            }
        }
    }

    /** Half of the positions fall in the first 24 bytes, where labels, types and lengths sit. */
    private static int position(int length, Random random) {
        return random.nextBoolean() ? random.nextInt(Math.min(length, 24)) : random.nextInt(length);
    }

    private static byte meaningful(Random random) {
        return MEANINGFUL[random.nextInt(MEANINGFUL.length)];
    }

    /** {@code b} with {@code removed} bytes at {@code at} replaced by {@code inserted}. */
    private static byte[] splice(byte[] b, int at, int removed, byte[] inserted) {
        byte[] out = new byte[b.length - removed + inserted.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(inserted, 0, out, at, inserted.length);
        System.arraycopy(b, at + removed, out, at + inserted.length, b.length - at - removed);
        return out;
    }
}
