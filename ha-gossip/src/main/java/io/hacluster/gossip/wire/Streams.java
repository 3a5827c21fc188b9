package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;

import java.util.Arrays;

/**
 * memberlist's TCP stream message format, both directions. A stream carries one message each
 * way (push/pull, ping and its ack, a user message, or an error reply); it is not length
 * prefixed, which is why {@link StreamFraming} exists.
 *
 * <p>Outgoing ({@code rawSendMsgStream} plus the label-wrapping transport):
 * <ol>
 *   <li>the message: {@link Codec#encodePushPull}, {@link Codec#encodeUserStream} or
 *       {@link Codec#encode} for ping, ack and err;</li>
 *   <li>compression, always when enabled: {@code [9][msgpack compress{Algo: 0, Buf}]};</li>
 *   <li>encryption, when enabled: {@code [10][u32 BE ciphertext length][ciphertext]}, with
 *       associated data {@code [10][length]} followed by the label;</li>
 *   <li>the label, when set: {@code [244][length][label]}.</li>
 * </ol>
 */
public final class Streams {

    private static final int ENCRYPT_HEADER = 5;

    private Streams() {
    }

    /** Wraps one plain stream message into the bytes to write on the connection. */
    public static byte[] wrap(byte[] message, WireOptions options) {
        byte[] out = message;
        if (options.compress()) {
            out = Codec.encodeCompress(Lzw.compress(out));
        }
        if (options.encryptsOutgoing()) {
            int encLen = options.cipher().encryptedLength(out.length);
            byte[] header = encryptHeader(encLen);
            byte[] ciphertext = options.cipher().encrypt(out, associatedData(header, options));
            if (ciphertext.length != encLen) {
                throw new IllegalStateException("cipher produced " + ciphertext.length
                        + " bytes, announced " + encLen);
            }
            byte[] framed = Arrays.copyOf(header, ENCRYPT_HEADER + ciphertext.length);
            System.arraycopy(ciphertext, 0, framed, ENCRYPT_HEADER, ciphertext.length);
            out = framed;
        }
        return Packets.addLabel(out, options.label());
    }

    private static byte[] encryptHeader(int length) {
        return new byte[] {(byte) MessageType.ENCRYPT.code(), (byte) (length >>> 24),
                (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
    }

    private static byte[] associatedData(byte[] header, WireOptions options) {
        byte[] label = options.labelBytes();
        byte[] ad = Arrays.copyOf(header, ENCRYPT_HEADER + label.length);
        System.arraycopy(label, 0, ad, ENCRYPT_HEADER, label.length);
        return ad;
    }

    /**
     * Unwraps one complete stream message (exactly the bytes {@link StreamFraming} delimited):
     * checks the label, decrypts, decompresses, and returns the plain message
     * {@code [type][...]} for {@link Codec#decodePushPull}, {@link Codec#decodeUserStream} or
     * {@link Codec#decode}.
     */
    public static byte[] unwrap(byte[] frame, WireOptions options) throws MalformedMessageException {
        WireLimits limits = options.limits();
        int offset = Packets.checkLabel(frame, frame.length, options);
        if (offset >= frame.length) {
            throw new MalformedMessageException(Reason.TRUNCATED, "stream ended before the message type");
        }
        byte[] msg;
        if ((frame[offset] & 0xFF) == MessageType.ENCRYPT.code()) {
            if (options.cipher() == null) {
                throw new MalformedMessageException(Reason.ENCRYPTION,
                        "remote state is encrypted and encryption is not configured");
            }
            if (frame.length - offset < ENCRYPT_HEADER) {
                throw new MalformedMessageException(Reason.TRUNCATED, "truncated encrypted stream header");
            }
            byte[] header = Arrays.copyOfRange(frame, offset, offset + ENCRYPT_HEADER);
            long length = ((header[1] & 0xFFL) << 24) | ((header[2] & 0xFFL) << 16)
                    | ((header[3] & 0xFFL) << 8) | (header[4] & 0xFFL);
            if (length > limits.maxPushStateBytes()) {
                throw new MalformedMessageException(Reason.TOO_LARGE,
                        "encrypted stream of " + length + " bytes exceeds " + limits.maxPushStateBytes());
            }
            if (frame.length - offset - ENCRYPT_HEADER != length) {
                throw new MalformedMessageException(Reason.TRUNCATED, "encrypted stream announces "
                        + length + " bytes, frame holds " + (frame.length - offset - ENCRYPT_HEADER));
            }
            byte[] ciphertext = Arrays.copyOfRange(frame, offset + ENCRYPT_HEADER, frame.length);
            msg = options.cipher().decrypt(ciphertext, associatedData(header, options));
            if (msg.length == 0) {
                throw new MalformedMessageException(Reason.TRUNCATED, "decrypted stream message is empty");
            }
        } else {
            if (options.cipher() != null && options.verifyIncoming()) {
                throw new MalformedMessageException(Reason.ENCRYPTION,
                        "encryption is configured but remote state is not encrypted");
            }
            msg = Arrays.copyOfRange(frame, offset, frame.length);
        }
        if ((msg[0] & 0xFF) == MessageType.COMPRESS.code()) {
            MsgpackReader r = new MsgpackReader(msg, 1, msg.length - 1);
            byte[] lzw = Codec.readCompress(r, msg.length);
            if (r.remaining() != 0) {
                throw new MalformedMessageException(Reason.INVALID_BODY,
                        r.remaining() + " trailing bytes after the compress message");
            }
            msg = Lzw.decompress(lzw, limits.maxStreamDecompressedBytes());
            if (msg.length == 0) {
                throw new MalformedMessageException(Reason.COMPRESSION, "decompressed message is empty");
            }
        }
        return msg;
    }
}
