package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads msgpack the way memberlist's Go decoder accepts it, from a complete in-memory buffer.
 * Lenient where Go is lenient (any integer width, str or bin for bytes and strings, nil for a
 * zero value, unknown map keys skipped), strict where hostile input could hurt: every length is
 * checked against the bytes that remain before anything is allocated, nesting is bounded, and
 * every loop consumes input, so decoding always ends.
 */
final class MsgpackReader {

    /** Deepest nesting accepted when skipping values of unknown keys. */
    static final int MAX_DEPTH = 32;

    private final byte[] buf;
    private int pos;
    private final int end;

    MsgpackReader(byte[] buf, int offset, int length) {
        if (offset < 0 || length < 0 || offset > buf.length - length) {
            throw new IndexOutOfBoundsException("offset " + offset + " length " + length);
        }
        this.buf = buf;
        this.pos = offset;
        this.end = offset + length;
    }

    int position() {
        return pos;
    }

    int remaining() {
        return end - pos;
    }

    static MalformedMessageException truncated(String what) {
        return new MalformedMessageException(Reason.TRUNCATED, "truncated " + what);
    }

    static MalformedMessageException invalid(String message) {
        return new MalformedMessageException(Reason.INVALID_BODY, message);
    }

    private int u8() throws MalformedMessageException {
        if (pos >= end) {
            throw truncated("msgpack value");
        }
        return buf[pos++] & 0xFF;
    }

    private long be(int bytes) throws MalformedMessageException {
        if (end - pos < bytes) {
            throw truncated("msgpack value");
        }
        long v = 0;
        for (int i = 0; i < bytes; i++) {
            v = (v << 8) | (buf[pos++] & 0xFF);
        }
        return v;
    }

    /** Reads bytes the caller will keep, after checking the length against what remains. */
    byte[] readRaw(long length, String what) throws MalformedMessageException {
        if (length < 0 || length > end - pos) {
            throw truncated(what + " (" + length + " bytes announced, " + (end - pos) + " left)");
        }
        byte[] out = Arrays.copyOfRange(buf, pos, pos + (int) length);
        pos += (int) length;
        return out;
    }

    /** True (and consumed) when the next value is nil. */
    boolean tryReadNil() throws MalformedMessageException {
        if (pos >= end) {
            throw truncated("msgpack value");
        }
        if ((buf[pos] & 0xFF) == 0xc0) {
            pos++;
            return true;
        }
        return false;
    }

    /** A map header; the entry count is checked against the bytes left (two per entry at least). */
    int readMapHeader(String what) throws MalformedMessageException {
        int b = u8();
        long n;
        if ((b & 0xF0) == 0x80) {
            n = b & 0x0F;
        } else if (b == 0xde) {
            n = be(2);
        } else if (b == 0xdf) {
            n = be(4);
        } else {
            throw invalid(what + ": expected a msgpack map, found byte 0x" + Integer.toHexString(b));
        }
        if (n * 2 > end - pos) {
            throw truncated(what + " (map of " + n + " entries in " + (end - pos) + " bytes)");
        }
        return (int) n;
    }

    /** The length of a str or bin value whose header is next, or -1 for nil. */
    private long readBytesHeader(String what) throws MalformedMessageException {
        int b = u8();
        if ((b & 0xE0) == 0xa0) {
            return b & 0x1F;
        }
        return switch (b) {
            case 0xc0 -> -1;
            case 0xd9, 0xc4 -> be(1);
            case 0xda, 0xc5 -> be(2);
            case 0xdb, 0xc6 -> be(4);
            default -> throw invalid(what + ": expected str or bin, found byte 0x" + Integer.toHexString(b));
        };
    }

    /** A Go {@code []byte}; nil becomes an empty array. */
    byte[] readBytes(String what, int maxLength) throws MalformedMessageException {
        long n = readBytesHeader(what);
        if (n < 0) {
            return new byte[0];
        }
        if (n > maxLength) {
            throw new MalformedMessageException(Reason.TOO_LARGE,
                    what + " is " + n + " bytes, limit " + maxLength);
        }
        return readRaw(n, what);
    }

    /** A Go string; nil becomes {@code ""}. Invalid UTF-8 is replaced, as Go keeps raw bytes. */
    String readString(String what) throws MalformedMessageException {
        long n = readBytesHeader(what);
        if (n < 0) {
            return "";
        }
        if (n > end - pos) {
            throw truncated(what + " (" + n + " bytes announced, " + (end - pos) + " left)");
        }
        String s = new String(buf, pos, (int) n, StandardCharsets.UTF_8);
        pos += (int) n;
        return s;
    }

    /** Any msgpack integer (or nil as 0) as a long; uint64 above Long.MAX_VALUE is rejected. */
    long readInteger(String what) throws MalformedMessageException {
        int b = u8();
        if (b <= 0x7f) {
            return b;
        }
        if (b >= 0xe0) {
            return (byte) b;
        }
        switch (b) {
            case 0xc0: return 0;
            case 0xcc: return be(1);
            case 0xcd: return be(2);
            case 0xce: return be(4);
            case 0xcf: {
                long v = be(8);
                if (v < 0) {
                    throw invalid(what + ": integer overflows 64 bits");
                }
                return v;
            }
            case 0xd0: return (byte) be(1);
            case 0xd1: return (short) be(2);
            case 0xd2: return (int) be(4);
            case 0xd3: return be(8);
            default:
                throw invalid(what + ": expected an integer, found byte 0x" + Integer.toHexString(b));
        }
    }

    /** An integer that must lie in {@code [min, max]}, as Go's overflow check on decode. */
    long readInteger(String what, long min, long max) throws MalformedMessageException {
        long v = readInteger(what);
        if (v < min || v > max) {
            throw invalid(what + " " + v + " is outside [" + min + ", " + max + "]");
        }
        return v;
    }

    boolean readBool(String what) throws MalformedMessageException {
        int b = u8();
        return switch (b) {
            case 0xc2, 0xc0 -> false;
            case 0xc3 -> true;
            default -> throw invalid(what + ": expected a bool, found byte 0x" + Integer.toHexString(b));
        };
    }

    /** A map key as a string (Go struct field names arrive as str, or bin from other encoders). */
    String readKey() throws MalformedMessageException {
        return readString("map key");
    }

    /** Skips one value of any type, for map keys this decoder does not know. */
    void skipValue() throws MalformedMessageException {
        int newPos;
        try {
            newPos = MsgpackScanner.valueEnd(buf, pos, end, end);
        } catch (MalformedMessageException e) {
            if (e.reason() == Reason.TOO_LARGE) {
                throw truncated("msgpack value");
            }
            throw e;
        }
        if (newPos < 0) {
            throw truncated("msgpack value");
        }
        pos = newPos;
    }
}
