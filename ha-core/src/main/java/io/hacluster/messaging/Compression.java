package io.hacluster.messaging;

import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * Deflate for message bodies. Inflation is bounded by the declared uncompressed length, which is
 * itself checked against the frame limit, so a small hostile frame cannot expand without bound.
 */
final class Compression {

    private Compression() {
    }

    /** Compresses {@code in}; returns null if the result would not be smaller. */
    static byte[] deflate(byte[] in) {
        Deflater deflater = new Deflater(Deflater.BEST_SPEED);
        try {
            deflater.setInput(in);
            deflater.finish();
            byte[] out = new byte[in.length];
            int n = 0;
            while (!deflater.finished()) {
                if (n == out.length) {
                    return null; // not smaller: send uncompressed
                }
                n += deflater.deflate(out, n, out.length - n);
            }
            return Arrays.copyOf(out, n);
        } finally {
            deflater.end();
        }
    }

    /**
     * Inflates exactly {@code expectedLength} bytes.
     *
     * @throws ProtocolException if the length exceeds {@code limit}, the data is corrupt, or it
     *     does not inflate to exactly the declared length
     */
    static byte[] inflate(byte[] in, int offset, int length, int expectedLength, int limit) throws ProtocolException {
        if (expectedLength < 0 || expectedLength > limit) {
            throw new ProtocolException("declared uncompressed length " + Integer.toUnsignedString(expectedLength)
                    + " exceeds limit " + limit);
        }
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(in, offset, length);
            byte[] out = new byte[expectedLength];
            byte[] probe = new byte[1];
            int n = 0;
            while (!inflater.finished()) {
                int k = n < expectedLength
                        ? inflater.inflate(out, n, expectedLength - n)
                        : inflater.inflate(probe); // output is full: only the end-of-stream may follow
                if (n >= expectedLength && k > 0) {
                    throw new ProtocolException("compressed body inflates beyond the declared " + expectedLength + " bytes");
                }
                n += k;
                if (k == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
            }
            if (n != expectedLength || !inflater.finished()) {
                throw new ProtocolException("compressed body does not inflate to the declared " + expectedLength + " bytes");
            }
            return out;
        } catch (DataFormatException e) {
            throw new ProtocolException("corrupt compressed body: " + e.getMessage());
        } finally {
            inflater.end();
        }
    }
}
