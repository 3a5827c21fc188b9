package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;

import java.util.Arrays;

/**
 * LZW exactly as Go's {@code compress/lzw} with {@code LSB} bit order and literal width 8, the
 * format inside memberlist's {@code compress} message (GIF-style: variable-width codes from 9 up
 * to 12 bits, code 256 clears the table, code 257 ends the data).
 *
 * <p>Rules both sides must share, taken from Go's reader and writer:
 * <ul>
 *   <li>codes are packed least significant bit first; the final partial byte is zero-padded;</li>
 *   <li>{@code hi}, the next code to be defined, starts at 257; after each emitted code
 *       (except the first after a clear) {@code hi} grows by one, and the width grows by one bit
 *       when {@code hi} reaches {@code 1 << width};</li>
 *   <li>the compressor emits a clear code and resets when {@code hi} would reach 4095;</li>
 *   <li>the data ends with the EOF code; data that ends without it is invalid (Go reports
 *       {@code io.ErrUnexpectedEOF}, which memberlist treats as an error).</li>
 * </ul>
 */
public final class Lzw {

    private static final int CLEAR = 256;
    private static final int EOF = 257;
    private static final int MAX_WIDTH = 12;
    private static final int MAX_CODE = (1 << MAX_WIDTH) - 1;
    private static final int TABLE_SIZE = 4 << MAX_WIDTH;
    private static final int TABLE_MASK = TABLE_SIZE - 1;

    private Lzw() {
    }

    /** Compresses {@code input}; the output decompresses with Go's {@code lzw.NewReader(r, lzw.LSB, 8)}. */
    public static byte[] compress(byte[] input) {
        BitWriter out = new BitWriter(input.length / 2 + 16);
        // Hash table from (prefix code << 8 | byte) to code, open addressing as in Go's writer;
        // an entry packs key << 12 | code, 0 is empty because valid codes are >= 258.
        int[] table = new int[TABLE_SIZE];
        int width = 9;
        int hi = EOF;
        int overflow = 1 << width;
        if (input.length > 0) {
            int code = input[0] & 0xFF;
            for (int i = 1; i < input.length; i++) {
                int literal = input[i] & 0xFF;
                int key = code << 8 | literal;
                int hash = ((key >>> 12) ^ key) & TABLE_MASK;
                boolean found = false;
                for (int h = hash, t = table[h]; t != 0; h = (h + 1) & TABLE_MASK, t = table[h]) {
                    if (key == t >>> 12) {
                        code = t & MAX_CODE;
                        found = true;
                        break;
                    }
                }
                if (found) {
                    continue;
                }
                out.write(code, width);
                code = literal;
                hi++;
                if (hi == overflow) {
                    width++;
                    overflow <<= 1;
                }
                if (hi == MAX_CODE) {
                    out.write(CLEAR, width);
                    width = 9;
                    hi = EOF;
                    overflow = 1 << width;
                    Arrays.fill(table, 0);
                    continue;
                }
                int h = hash;
                while (table[h] != 0) {
                    h = (h + 1) & TABLE_MASK;
                }
                table[h] = key << 12 | hi;
            }
            out.write(code, width);
            hi++;
            if (hi == overflow) {
                width++;
                overflow <<= 1;
            }
            if (hi == MAX_CODE) {
                out.write(CLEAR, width);
                width = 9;
            }
        }
        out.write(EOF, width);
        return out.finish();
    }

    /**
     * Decompresses Go-compatible LZW data.
     *
     * @param maxOutput the largest output accepted; decompression stops and fails as soon as it
     *                  would exceed it, so a small hostile input cannot expand without bound
     * @throws MalformedMessageException {@code COMPRESSION} for an invalid code or missing EOF code,
     *                                   {@code TOO_LARGE} beyond {@code maxOutput}
     */
    public static byte[] decompress(byte[] input, int maxOutput) throws MalformedMessageException {
        return decompress(input, 0, input.length, maxOutput);
    }

    /** Decompresses {@code input[offset, offset + length)}; see {@link #decompress(byte[], int)}. */
    public static byte[] decompress(byte[] input, int offset, int length, int maxOutput)
            throws MalformedMessageException {
        int[] prefix = new int[1 << MAX_WIDTH];
        byte[] suffix = new byte[1 << MAX_WIDTH];
        // Length of each code's expansion, so a code is bounds-checked before it is written.
        int[] lengths = new int[1 << MAX_WIDTH];
        for (int i = 0; i < 256; i++) {
            lengths[i] = 1;
        }
        byte[] out = new byte[Math.min(maxOutput, Math.max(64, length * 3))];
        int size = 0;
        int width = 9;
        int hi = EOF;
        int overflow = 1 << width;
        int last = -1;
        int pos = offset;
        int end = offset + length;
        long bits = 0;
        int nBits = 0;
        while (true) {
            while (nBits < width) {
                if (pos >= end) {
                    throw new MalformedMessageException(Reason.COMPRESSION,
                            "LZW data ends without the EOF code");
                }
                bits |= (long) (input[pos++] & 0xFF) << nBits;
                nBits += 8;
            }
            int code = (int) (bits & ((1L << width) - 1));
            bits >>>= width;
            nBits -= width;
            if (code == CLEAR) {
                width = 9;
                hi = EOF;
                overflow = 1 << width;
                last = -1;
                continue;
            }
            if (code == EOF) {
                return size == out.length ? out : Arrays.copyOf(out, size);
            }
            int expansion;
            if (code < CLEAR) {
                expansion = 1;
            } else if (code < hi && code > EOF) {
                expansion = lengths[code];
            } else if (code == hi && last >= 0) {
                expansion = lengths[last] + 1;
            } else {
                throw new MalformedMessageException(Reason.COMPRESSION,
                        "invalid LZW code " + code + " (next code " + hi + ")");
            }
            if (expansion > maxOutput - size) {
                throw new MalformedMessageException(Reason.TOO_LARGE,
                        "LZW data expands beyond " + maxOutput + " bytes");
            }
            if (size + expansion > out.length) {
                out = Arrays.copyOf(out, (int) Math.min(maxOutput, Math.max(size + expansion, 2L * out.length)));
            }
            int first;
            if (code < CLEAR) {
                out[size] = (byte) code;
                first = code;
            } else {
                int c = code == hi ? last : code;
                int i = size + (code == hi ? lengths[last] - 1 : expansion - 1);
                while (c >= CLEAR) {
                    out[i--] = suffix[c];
                    c = prefix[c];
                }
                out[i] = (byte) c;
                first = c;
                if (code == hi) {
                    out[size + expansion - 1] = (byte) first;
                }
            }
            size += expansion;
            if (last >= 0) {
                suffix[hi] = (byte) first;
                prefix[hi] = last;
                lengths[hi] = lengths[last] + 1;
            }
            last = code;
            hi++;
            if (hi >= overflow) {
                if (width == MAX_WIDTH) {
                    last = -1;
                    hi--;
                } else {
                    width++;
                    overflow <<= 1;
                }
            }
        }
    }

    /** Packs codes least significant bit first. */
    private static final class BitWriter {
        private byte[] buf;
        private int size;
        private long bits;
        private int nBits;

        BitWriter(int capacity) {
            buf = new byte[Math.max(16, capacity)];
        }

        void write(int code, int width) {
            bits |= (long) code << nBits;
            nBits += width;
            while (nBits >= 8) {
                put((byte) bits);
                bits >>>= 8;
                nBits -= 8;
            }
        }

        private void put(byte b) {
            if (size == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
            buf[size++] = b;
        }

        byte[] finish() {
            if (nBits > 0) {
                put((byte) bits);
                bits = 0;
                nBits = 0;
            }
            return Arrays.copyOf(buf, size);
        }
    }
}
