package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.hacluster.gossip.wire.Hex.bytes;
import static io.hacluster.gossip.wire.PacketsTest.assertReason;
import static org.assertj.core.api.Assertions.assertThat;

/** Stream wrappers and the framing that finds where an unprefixed stream message ends. */
class StreamsTest {

    private static final WireOptions PLAIN = WireOptions.DEFAULT.withCompression(false);

    static PushPull samplePushPull(int nodes, int userBytes) {
        List<PushNodeState> states = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            states.add(new PushNodeState("node-" + i, new byte[] {10, 0, (byte) (i >> 8), (byte) i}, 7946,
                    ("meta" + i).getBytes(), i, i % 4, new byte[] {1, 5, 2, 2, 5, 4}));
        }
        byte[] user = new byte[userBytes];
        new Random(7).nextBytes(user);
        return new PushPull(nodes % 2 == 0, states, user);
    }

    static List<byte[]> sampleStreamMessages() {
        return List.of(
                Codec.encodePushPull(samplePushPull(0, 0)),
                Codec.encodePushPull(samplePushPull(3, 40)),
                Codec.encodePushPull(samplePushPull(300, 70_000)),
                Codec.encodeUserStream(new byte[] {1, 2, 3}),
                Codec.encodeUserStream(new byte[0]),
                Codec.encode(new Message.Ping(5, "n", new byte[] {127, 0, 0, 1}, 7946, "m")),
                Codec.encode(new Message.Ack(5, null)),
                Codec.encode(new Message.Err("remote error")));
    }

    static List<WireOptions> sampleOptions() {
        return List.of(PLAIN, WireOptions.DEFAULT, WireOptions.DEFAULT.withLabel("prod"),
                PLAIN.withLabel("x").withCipher(TestCiphers.aesGcm(new byte[32])),
                WireOptions.DEFAULT.withCipher(TestCiphers.aesGcm(new byte[16])));
    }

    @Test
    void everyStreamMessageRoundTripsAndFramesExactlyByteByByte() throws Exception {
        for (WireOptions options : sampleOptions()) {
            for (byte[] message : sampleStreamMessages()) {
                byte[] wire = Streams.wrap(message, options);
                byte[] withTrailer = Arrays.copyOf(wire, wire.length + 7);
                StreamFraming framing = new StreamFraming(options.limits());
                int step = wire.length > 10_000 ? 997 : 1;
                int found = StreamFraming.NEED_MORE;
                int fedAt = 0;
                for (int have = 0; have <= withTrailer.length && found == StreamFraming.NEED_MORE; have += step) {
                    found = framing.frameLength(ByteBuffer.wrap(withTrailer, 0, Math.min(have, withTrailer.length)));
                    fedAt = Math.min(have, withTrailer.length);
                }
                if (found == StreamFraming.NEED_MORE) {
                    found = framing.frameLength(ByteBuffer.wrap(withTrailer));
                    fedAt = withTrailer.length;
                }
                assertThat(found).as("%s type %d", options, message[0]).isEqualTo(wire.length);
                assertThat(fedAt).isLessThan(wire.length + step);
                assertThat(Streams.unwrap(Arrays.copyOf(withTrailer, found), options)).isEqualTo(message);
            }
        }
    }

    @Test
    void compressionIsAlwaysAppliedToStreams() throws Exception {
        byte[] ack = Codec.encode(new Message.Ack(1, null));
        byte[] wire = Streams.wrap(ack, WireOptions.DEFAULT);
        assertThat(wire[0]).isEqualTo((byte) 9);
        assertThat(Streams.unwrap(wire, WireOptions.DEFAULT)).isEqualTo(ack);
    }

    @Test
    void encryptedStreamHeaderCarriesTheCiphertextLength() throws Exception {
        WireOptions enc = PLAIN.withCipher(TestCiphers.aesGcm(new byte[16]));
        byte[] msg = Codec.encodeUserStream(new byte[100]);
        byte[] wire = Streams.wrap(msg, enc);
        assertThat(wire[0]).isEqualTo((byte) 10);
        assertThat(ByteBuffer.wrap(wire, 1, 4).getInt()).isEqualTo(msg.length + 29);
        assertThat(wire.length).isEqualTo(5 + msg.length + 29);
        wire[3] ^= 1; // the length is authenticated data
        byte[] tampered = Arrays.copyOf(wire, wire.length);
        assertReason(() -> Streams.unwrap(tampered, enc), Reason.TRUNCATED);
        assertReason(() -> Streams.unwrap(Streams.wrap(msg, enc), PLAIN), Reason.ENCRYPTION);
        assertReason(() -> Streams.unwrap(Streams.wrap(msg, PLAIN), enc), Reason.ENCRYPTION);
    }

    @Test
    void hostileLengthsFailAtOnceWithoutWaiting() {
        WireLimits limits = WireLimits.DEFAULT;
        assertFramingFails(bytes("0a ff ff ff ff"), Reason.TOO_LARGE, limits);
        assertFramingFails(bytes("06 83 a4 'Join' c2 a5 'Nodes' d2 7f ff ff ff ac 'UserStateLen' 00"),
                Reason.TOO_LARGE, limits);
        assertFramingFails(bytes("06 83 a4 'Join' c2 a5 'Nodes' 00 ac 'UserStateLen' ce 7f ff ff ff"),
                Reason.TOO_LARGE, limits);
        assertFramingFails(bytes("08 81 aa 'UserMsgLen' ce 80 00 00 00"), Reason.TOO_LARGE, limits);
        assertFramingFails(bytes("09 82 a4 'Algo' 00 a3 'Buf' db 7f ff ff ff"), Reason.TOO_LARGE, limits);
        assertFramingFails(bytes("00 df 7f ff ff ff"), Reason.TOO_LARGE, limits);
        assertFramingFails(bytes("04 80"), Reason.UNKNOWN_TYPE, limits);
        assertFramingFails(bytes("f4 00"), Reason.INVALID_BODY, limits);
        assertFramingFails(bytes("06 da 10 00"), Reason.TOO_LARGE, limits);          // 4 KiB header map
        WireLimits small = new WireLimits(1000, 1000, 10, 512, 4096, 4096, 4096, 100);
        assertFramingFails(bytes("06 83 a4 'Join' c2 a5 'Nodes' 0b ac 'UserStateLen' 00"), Reason.TOO_LARGE, small);
        assertFramingFails(bytes("06 83 a4 'Join' c2 a5 'Nodes' 01 ac 'UserStateLen' 00 db 00 00 10 00"),
                Reason.TOO_LARGE, small);
    }

    @Test
    void unwrapRejectsBadStreams() {
        assertReason(() -> Streams.unwrap(new byte[0], PLAIN), Reason.TRUNCATED);
        assertReason(() -> Streams.unwrap(bytes("f4 01 'a' 00 80"), PLAIN), Reason.LABEL_MISMATCH);
        assertReason(() -> Streams.unwrap(bytes("09 82 a4 'Algo' 01 a3 'Buf' a0"), PLAIN), Reason.COMPRESSION);
        assertReason(() -> Streams.unwrap(bytes("09 82 a4 'Algo' 00 a3 'Buf' a2 01 01"), PLAIN), Reason.COMPRESSION);
        byte[] zeros = Lzw.compress(new byte[5000]);
        byte[] bomb = Codec.encodeCompress(zeros);
        WireOptions tight = PLAIN.withLimits(new WireLimits(1000, 1000, 10, 512, 1 << 20, 4096, 4096, 100));
        assertReason(() -> Streams.unwrap(bomb, tight), Reason.TOO_LARGE);
    }

    private static void assertFramingFails(byte[] prefix, Reason reason, WireLimits limits) {
        assertReason(() -> new StreamFraming(limits).frameLength(prefix, prefix.length), reason);
    }
}
