package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static io.hacluster.gossip.wire.Hex.bytes;
import static io.hacluster.gossip.wire.Hex.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Golden vectors: the bytes Go's {@code codec.MsgpackHandle{}} writes for memberlist's structs,
 * derived by hand from go-msgpack's encoder (struct maps keyed by field name in sorted order,
 * omitempty fields dropped, strings and []byte as fixstr/str16/str32 without str8, unsigned
 * fields minimal unsigned, Go int as v2 writes it), then round trips of every message.
 */
class CodecTest {

    private static final byte[] LOCALHOST = {127, 0, 0, 1};
    private static final byte[] VSN = {1, 5, 2, 2, 5, 4};

    @Test
    void pingWithoutSourceFieldsOmitsThem() throws Exception {
        byte[] expected = bytes("00 82", "a4 'Node' a5 'node1'", "a5 'SeqNo' 01");
        byte[] encoded = Codec.encode(new Message.Ping(1, "node1", null, 0, ""));
        assertThat(hex(encoded)).isEqualTo(hex(expected));
        Message.Ping back = (Message.Ping) Codec.decode(encoded);
        assertThat(back.seqNo()).isEqualTo(1);
        assertThat(back.node()).isEqualTo("node1");
        assertThat(back.sourceAddr()).isEmpty();
        assertThat(back.sourcePort()).isZero();
        assertThat(back.sourceNode()).isEmpty();
    }

    @Test
    void pingWithSourceFieldsInSortedKeyOrder() {
        byte[] expected = bytes("00 85",
                "a4 'Node' a1 'b'",
                "a5 'SeqNo' cd 01 2c",
                "aa 'SourceAddr' a4 7f 00 00 01",
                "aa 'SourceNode' a1 'a'",
                "aa 'SourcePort' cd 1f 0a");
        assertThat(hex(Codec.encode(new Message.Ping(300, "b", LOCALHOST, 7946, "a"))))
                .isEqualTo(hex(expected));
    }

    @Test
    void indirectPing() throws Exception {
        byte[] expected = bytes("01 88",
                "a4 'Nack' c3",
                "a4 'Node' a1 'c'",
                "a4 'Port' cd 1f 0a",
                "a5 'SeqNo' ce ff ff ff ff",
                "aa 'SourceAddr' a4 7f 00 00 01",
                "aa 'SourceNode' a1 'a'",
                "aa 'SourcePort' cd 1f 0b",
                "a6 'Target' a4 0a 00 00 02");
        Message.IndirectPing m = new Message.IndirectPing(-1, new byte[] {10, 0, 0, 2}, 7946, "c", true,
                LOCALHOST, 7947, "a");
        byte[] encoded = Codec.encode(m);
        assertThat(hex(encoded)).isEqualTo(hex(expected));
        assertThat(Codec.decode(encoded)).usingRecursiveComparison().isEqualTo(m);
    }

    @Test
    void ackWithNilPayloadWritesNil() throws Exception {
        byte[] expected = bytes("02 82", "a7 'Payload' c0", "a5 'SeqNo' 07");
        byte[] encoded = Codec.encode(new Message.Ack(7, null));
        assertThat(hex(encoded)).isEqualTo(hex(expected));
        Message.Ack back = (Message.Ack) Codec.decode(encoded);
        assertThat(back.payload()).isEmpty();
        assertThat(back.seqNo()).isEqualTo(7);
    }

    @Test
    void nackErrSuspectDead() throws Exception {
        assertThat(hex(Codec.encode(new Message.Nack(128)))).isEqualTo(hex(bytes("0b 81 a5 'SeqNo' cc 80")));
        assertThat(hex(Codec.encode(new Message.Err("boom")))).isEqualTo(hex(bytes("0d 81 a5 'Error' a4 'boom'")));
        assertThat(hex(Codec.encode(new Message.Suspect(2, "n", "m")))).isEqualTo(hex(
                bytes("03 83 a4 'From' a1 'm' ab 'Incarnation' 02 a4 'Node' a1 'n'")));
        assertThat(hex(Codec.encode(new Message.Dead(70000, "n", "n")))).isEqualTo(hex(
                bytes("05 83 a4 'From' a1 'n' ab 'Incarnation' ce 00 01 11 70 a4 'Node' a1 'n'")));
    }

    @Test
    void aliveUsesStr16ForMetaOf32BytesOrMoreNeverStr8() throws Exception {
        byte[] meta = new byte[40];
        Arrays.fill(meta, (byte) 'x');
        byte[] expected = bytes("04 86",
                "a4 'Addr' a4 7f 00 00 01",
                "ab 'Incarnation' 09",
                "a4 'Meta' da 00 28 '" + "x".repeat(40) + "'",
                "a4 'Node' a5 'node1'",
                "a4 'Port' cd 1f 0a",
                "a3 'Vsn' a6 01 05 02 02 05 04");
        Message.Alive alive = new Message.Alive(9, "node1", LOCALHOST, 7946, meta, VSN);
        byte[] encoded = Codec.encode(alive);
        assertThat(hex(encoded)).isEqualTo(hex(expected));
        assertThat(Codec.decode(encoded)).usingRecursiveComparison().isEqualTo(alive);
    }

    @Test
    void userPacketIsTheRawPayload() throws Exception {
        byte[] encoded = Codec.encode(new Message.User(new byte[] {1, 2, 3}));
        assertThat(encoded).containsExactly(8, 1, 2, 3);
        assertThat(((Message.User) Codec.decode(encoded)).payload()).containsExactly(1, 2, 3);
    }

    @Test
    void pushPullHeaderWritesGoIntsSigned() throws Exception {
        byte[] user = new byte[70000];
        PushNodeState n = new PushNodeState("node1", LOCALHOST, 7946, new byte[0], 1,
                PushNodeState.STATE_ALIVE, VSN);
        byte[] encoded = Codec.encodePushPull(new PushPull(true, List.of(n), user));
        byte[] expectedStart = bytes("06 83",
                "a4 'Join' c3",
                "a5 'Nodes' 01",
                "ac 'UserStateLen' d2 00 01 11 70",
                "87",
                "a4 'Addr' a4 7f 00 00 01",
                "ab 'Incarnation' 01",
                "a4 'Meta' a0",
                "a4 'Name' a5 'node1'",
                "a4 'Port' cd 1f 0a",
                "a5 'State' 00",
                "a3 'Vsn' a6 01 05 02 02 05 04");
        assertThat(hex(Arrays.copyOf(encoded, expectedStart.length))).isEqualTo(hex(expectedStart));
        assertThat(encoded.length).isEqualTo(expectedStart.length + user.length);

        PushPull back = Codec.decodePushPull(encoded, WireLimits.DEFAULT);
        assertThat(back.join()).isTrue();
        assertThat(back.nodes()).singleElement().usingRecursiveComparison().isEqualTo(n);
        assertThat(back.userState()).hasSize(70000);
    }

    @Test
    void decodesTheOlderCodecsUnsignedIntsAndStr8AndBin() throws Exception {
        // serf's go-msgpack v0.5 writes Go ints unsigned (cc/cd/ce); other encoders use str8 and bin.
        byte[] header = bytes("06 83",
                "a4 'Join' c2",
                "d9 05 'Nodes' 00",
                "c4 0c 'UserStateLen' cc c8");
        byte[] message = Arrays.copyOf(header, header.length + 200);
        PushPull back = Codec.decodePushPull(message, WireLimits.DEFAULT);
        assertThat(back.nodes()).isEmpty();
        assertThat(back.userState()).hasSize(200);
    }

    @Test
    void userStreamHeader() throws Exception {
        byte[] encoded = Codec.encodeUserStream(new byte[] {9, 9});
        assertThat(hex(encoded)).isEqualTo(hex(bytes("08 81 aa 'UserMsgLen' 02 09 09")));
        assertThat(Codec.decodeUserStream(encoded, WireLimits.DEFAULT)).containsExactly(9, 9);
    }

    @Test
    void unknownKeysAreSkippedMissingKeysAreZero() throws Exception {
        byte[] m = bytes("0b 82 a5 'Extra' 92 81 a1 'k' c0 cb 00 00 00 00 00 00 00 00 a5 'SeqNo' 05");
        assertThat(((Message.Nack) Codec.decode(m)).seqNo()).isEqualTo(5);
        assertThat(((Message.Nack) Codec.decode(bytes("0b 80"))).seqNo()).isZero();
    }

    @Test
    void rejectsHostileBodiesWithTheMalformedException() {
        assertMalformed(bytes("0b 81 a5 'SeqNo' d0 ff"), Reason.INVALID_BODY);      // negative uint32
        assertMalformed(bytes("0b 81 a5 'SeqNo' cf 00 00 00 01 00 00 00 00"), Reason.INVALID_BODY);
        assertMalformed(bytes("0b df ff ff ff ff"), Reason.TRUNCATED);                 // 4G entries
        assertMalformed(bytes("0d 81 a5 'Error' db 7f ff ff ff 'x'"), Reason.TRUNCATED); // 2 GiB string
        assertMalformed(bytes("0b 81 a5 'SeqNo' 05 00"), Reason.INVALID_BODY);       // trailing byte
        assertMalformed(bytes("63"), Reason.UNKNOWN_TYPE);
        assertMalformed(new byte[0], Reason.TRUNCATED);
        assertMalformed(bytes("07 01 00 00"), Reason.UNKNOWN_TYPE);                   // compound is a wrapper
        byte[] bigMeta = bytes("04 81 a4 'Meta' da 02 01");
        assertMalformed(Arrays.copyOf(bigMeta, bigMeta.length + 513), Reason.TOO_LARGE);
        assertMalformed(bytes("04 81 a4 'Addr' a3 01 02 03"), Reason.INVALID_BODY);   // 3-byte IP
        byte[] deep = new byte[200];
        Arrays.fill(deep, (byte) 0x91);
        byte[] nested = bytes("0b 81 a1 'x'");
        byte[] all = Arrays.copyOf(nested, nested.length + deep.length);
        System.arraycopy(deep, 0, all, nested.length, deep.length);
        assertMalformed(all, Reason.INVALID_BODY);
    }

    @Test
    void pushPullBoundsAreCheckedBeforeAllocating() {
        assertThatThrownBy(() -> Codec.decodePushPull(bytes("06 83 a4 'Join' c2 a5 'Nodes' d2 7f ff ff ff",
                "ac 'UserStateLen' 00"), WireLimits.DEFAULT))
                .isInstanceOf(MalformedMessageException.class)
                .extracting(e -> ((MalformedMessageException) e).reason()).isEqualTo(Reason.TOO_LARGE);
        assertThatThrownBy(() -> Codec.decodePushPull(bytes("06 83 a4 'Join' c2 a5 'Nodes' 00",
                "ac 'UserStateLen' d2 7f ff ff ff"), WireLimits.DEFAULT))
                .isInstanceOf(MalformedMessageException.class)
                .extracting(e -> ((MalformedMessageException) e).reason()).isEqualTo(Reason.TOO_LARGE);
        assertThatThrownBy(() -> Codec.decodePushPull(bytes("06 83 a4 'Join' c2 a5 'Nodes' 03",
                "ac 'UserStateLen' 00"), WireLimits.DEFAULT))
                .isInstanceOf(MalformedMessageException.class)
                .extracting(e -> ((MalformedMessageException) e).reason()).isEqualTo(Reason.TRUNCATED);
    }

    static void assertMalformed(byte[] message, Reason reason) {
        assertThatThrownBy(() -> Codec.decode(message))
                .isInstanceOf(MalformedMessageException.class)
                .satisfies(e -> assertThat(((MalformedMessageException) e).reason()).isEqualTo(reason));
    }
}
