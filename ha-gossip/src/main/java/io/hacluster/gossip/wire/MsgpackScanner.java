package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;

import java.nio.ByteBuffer;

/**
 * Finds where one msgpack value ends without decoding it, over a possibly incomplete buffer.
 * Used to skip unknown map entries and, by {@link StreamFraming}, to learn whether a stream
 * message has fully arrived. Every length is compared with {@code maxEnd} before the scanner
 * waits for it, so a hostile 4 GiB length is rejected at once instead of being waited for.
 */
final class MsgpackScanner {

    private MsgpackScanner() {
    }

    static int valueEnd(byte[] buf, int pos, int available, long maxEnd)
            throws MalformedMessageException {
        return valueEnd(ByteBuffer.wrap(buf), pos, available, maxEnd);
    }

    /**
     * The index just after the value starting at {@code pos}, if the whole value lies before
     * {@code available}; otherwise {@code -n} where {@code n > available} is the smallest end
     * index that could make progress (a lower bound on the bytes the value needs).
     *
     * @throws MalformedMessageException TOO_LARGE when the value cannot end by {@code maxEnd};
     *                                   INVALID_BODY for the reserved byte or too deep nesting
     */
    static int valueEnd(ByteBuffer buf, int pos, int available, long maxEnd)
            throws MalformedMessageException {
        return scan(buf, pos, available, maxEnd, 0);
    }

    private static int scan(ByteBuffer buf, int pos, int available, long maxEnd, int depth)
            throws MalformedMessageException {
        if (depth > MsgpackReader.MAX_DEPTH) {
            throw new MalformedMessageException(Reason.INVALID_BODY,
                    "msgpack nesting deeper than " + MsgpackReader.MAX_DEPTH);
        }
        if (pos >= available) {
            return need(pos + 1L, maxEnd);
        }
        int b = buf.get(pos) & 0xFF;
        int p = pos + 1;
        if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3)) {
            if (b == 0xc1) {
                throw new MalformedMessageException(Reason.INVALID_BODY, "reserved msgpack byte 0xc1");
            }
            return p;
        }
        if ((b & 0xE0) == 0xa0) {
            return skipBytes(p, b & 0x1F, available, maxEnd);
        }
        if ((b & 0xF0) == 0x80) {
            return skipElements(buf, p, 2L * (b & 0x0F), available, maxEnd, depth);
        }
        if ((b & 0xF0) == 0x90) {
            return skipElements(buf, p, b & 0x0F, available, maxEnd, depth);
        }
        switch (b) {
            case 0xcc: case 0xd0: return skipBytes(p, 1, available, maxEnd);
            case 0xcd: case 0xd1: return skipBytes(p, 2, available, maxEnd);
            case 0xce: case 0xd2: case 0xca: return skipBytes(p, 4, available, maxEnd);
            case 0xcf: case 0xd3: case 0xcb: return skipBytes(p, 8, available, maxEnd);
            case 0xd4: return skipBytes(p, 2, available, maxEnd);
            case 0xd5: return skipBytes(p, 3, available, maxEnd);
            case 0xd6: return skipBytes(p, 5, available, maxEnd);
            case 0xd7: return skipBytes(p, 9, available, maxEnd);
            case 0xd8: return skipBytes(p, 17, available, maxEnd);
            case 0xd9: case 0xc4: case 0xc7: {
                if (p + 1 > available) {
                    return need(p + 1L, maxEnd);
                }
                long n = lengthAt(buf, p, 1) + (b == 0xc7 ? 1 : 0);
                return skipBytes(p + 1, n, available, maxEnd);
            }
            case 0xda: case 0xc5: case 0xc8: {
                if (p + 2 > available) {
                    return need(p + 2L, maxEnd);
                }
                long n = lengthAt(buf, p, 2) + (b == 0xc8 ? 1 : 0);
                return skipBytes(p + 2, n, available, maxEnd);
            }
            case 0xdb: case 0xc6: case 0xc9: {
                if (p + 4 > available) {
                    return need(p + 4L, maxEnd);
                }
                long n = lengthAt(buf, p, 4) + (b == 0xc9 ? 1 : 0);
                return skipBytes(p + 4, n, available, maxEnd);
            }
            case 0xdc: case 0xde: {
                if (p + 2 > available) {
                    return need(p + 2L, maxEnd);
                }
                long n = lengthAt(buf, p, 2) * (b == 0xde ? 2 : 1);
                return skipElements(buf, p + 2, n, available, maxEnd, depth);
            }
            case 0xdd: case 0xdf: {
                if (p + 4 > available) {
                    return need(p + 4L, maxEnd);
                }
                long n = lengthAt(buf, p, 4) * (b == 0xdf ? 2 : 1);
                return skipElements(buf, p + 4, n, available, maxEnd, depth);
            }
            default:
                throw new MalformedMessageException(Reason.INVALID_BODY,
                        "unexpected msgpack byte 0x" + Integer.toHexString(b));
        }
    }

    private static long lengthAt(ByteBuffer buf, int p, int bytes) {
        long v = 0;
        for (int i = 0; i < bytes; i++) {
            v = (v << 8) | (buf.get(p + i) & 0xFF);
        }
        return v;
    }

    private static int skipBytes(int p, long n, int available, long maxEnd)
            throws MalformedMessageException {
        long end = p + n;
        if (end > available) {
            return need(end, maxEnd);
        }
        return (int) end;
    }

    private static int skipElements(ByteBuffer buf, int p, long elements, int available, long maxEnd,
                                    int depth) throws MalformedMessageException {
        if (p + elements > maxEnd) {
            throw tooLarge(p + elements, maxEnd);
        }
        int at = p;
        for (long i = 0; i < elements; i++) {
            int r = scan(buf, at, available, maxEnd, depth + 1);
            if (r < 0) {
                return r;
            }
            at = r;
        }
        return at;
    }

    private static int need(long end, long maxEnd) throws MalformedMessageException {
        if (end > maxEnd) {
            throw tooLarge(end, maxEnd);
        }
        return (int) -end;
    }

    private static MalformedMessageException tooLarge(long end, long maxEnd) {
        return new MalformedMessageException(Reason.TOO_LARGE,
                "msgpack value would end at byte " + end + ", beyond the bound " + maxEnd);
    }
}
