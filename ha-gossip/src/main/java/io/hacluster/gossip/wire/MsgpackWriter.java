package io.hacluster.gossip.wire;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes the subset of msgpack that memberlist's Go codec ({@code codec.MsgpackHandle{}} with
 * {@code WriteExt == false}) produces, byte for byte:
 * <ul>
 *   <li>strings and {@code []byte} alike as the old "raw" family: fixstr below 32 bytes, then
 *       str16 ({@code 0xda}), then str32 ({@code 0xdb}); never str8 ({@code 0xd9}) and never bin,
 *       because {@code WriteExt} is off;</li>
 *   <li>a {@code nil} slice as {@code 0xc0};</li>
 *   <li>Go unsigned fields in the smallest unsigned form (fixint, uint8, uint16, uint32, uint64);</li>
 *   <li>Go {@code int} fields as go-msgpack v2 does: fixint up to 127, then int16, int32, int64
 *       (the older v0.5 codec in serf writes them unsigned; both decode the same);</li>
 *   <li>maps with a fixmap, map16 or map32 header.</li>
 * </ul>
 */
final class MsgpackWriter {

    private byte[] buf;
    private int size;

    MsgpackWriter(int initialCapacity) {
        buf = new byte[Math.max(16, initialCapacity)];
    }

    private void ensure(int more) {
        int needed = size + more;
        if (needed < 0) {
            throw new IllegalStateException("message larger than 2 GiB");
        }
        if (needed > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(needed, buf.length * 2));
        }
    }

    MsgpackWriter writeRawByte(int b) {
        ensure(1);
        buf[size++] = (byte) b;
        return this;
    }

    MsgpackWriter writeRawBytes(byte[] bytes) {
        return writeRawBytes(bytes, 0, bytes.length);
    }

    MsgpackWriter writeRawBytes(byte[] bytes, int offset, int length) {
        ensure(length);
        System.arraycopy(bytes, offset, buf, size, length);
        size += length;
        return this;
    }

    private void writeBE(long value, int bytes) {
        ensure(bytes);
        for (int i = bytes - 1; i >= 0; i--) {
            buf[size++] = (byte) (value >>> (8 * i));
        }
    }

    MsgpackWriter writeMapHeader(int entries) {
        if (entries < 16) {
            writeRawByte(0x80 | entries);
        } else if (entries < 65536) {
            writeRawByte(0xde);
            writeBE(entries, 2);
        } else {
            writeRawByte(0xdf);
            writeBE(entries, 4);
        }
        return this;
    }

    private void writeRawHeader(int length) {
        if (length < 32) {
            writeRawByte(0xa0 | length);
        } else if (length < 65536) {
            writeRawByte(0xda);
            writeBE(length, 2);
        } else {
            writeRawByte(0xdb);
            writeBE(length, 4);
        }
    }

    /** A Go string. */
    MsgpackWriter writeString(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        writeRawHeader(utf8.length);
        return writeRawBytes(utf8);
    }

    /** A Go {@code []byte}: nil for {@code null}, else raw. */
    MsgpackWriter writeBytes(byte[] bytes) {
        if (bytes == null) {
            return writeRawByte(0xc0);
        }
        writeRawHeader(bytes.length);
        return writeRawBytes(bytes);
    }

    /** A Go unsigned integer ({@code uint8/16/32/64}); {@code value} is taken as unsigned. */
    MsgpackWriter writeUnsigned(long value) {
        if (value >= 0 && value <= 127) {
            writeRawByte((int) value);
        } else if (value >= 0 && value <= 0xFF) {
            writeRawByte(0xcc);
            writeBE(value, 1);
        } else if (value >= 0 && value <= 0xFFFF) {
            writeRawByte(0xcd);
            writeBE(value, 2);
        } else if (value >= 0 && value <= 0xFFFF_FFFFL) {
            writeRawByte(0xce);
            writeBE(value, 4);
        } else {
            writeRawByte(0xcf);
            writeBE(value, 8);
        }
        return this;
    }

    /** A Go signed {@code int}. */
    MsgpackWriter writeSigned(long value) {
        if (value > 127) {
            if (value <= Short.MAX_VALUE) {
                writeRawByte(0xd1);
                writeBE(value, 2);
            } else if (value <= Integer.MAX_VALUE) {
                writeRawByte(0xd2);
                writeBE(value, 4);
            } else {
                writeRawByte(0xd3);
                writeBE(value, 8);
            }
        } else if (value >= -32) {
            writeRawByte((int) value & 0xFF);
        } else if (value >= Byte.MIN_VALUE) {
            writeRawByte(0xd0);
            writeBE(value, 1);
        } else if (value >= Short.MIN_VALUE) {
            writeRawByte(0xd1);
            writeBE(value, 2);
        } else if (value >= Integer.MIN_VALUE) {
            writeRawByte(0xd2);
            writeBE(value, 4);
        } else {
            writeRawByte(0xd3);
            writeBE(value, 8);
        }
        return this;
    }

    MsgpackWriter writeBool(boolean value) {
        return writeRawByte(value ? 0xc3 : 0xc2);
    }

    int size() {
        return size;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }
}
