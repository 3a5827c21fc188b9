package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

import static io.hacluster.gossip.wire.Hex.bytes;
import static io.hacluster.gossip.wire.Hex.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PacketsTest {

    private static final byte[] PING = Codec.encode(new Message.Ping(1, "n", null, 0, ""));
    private static final WireOptions PLAIN = WireOptions.DEFAULT.withCompression(false);

    @Test
    void compoundLayoutIsCountThenBigEndianLengthsThenBodies() {
        byte[] c = Packets.compound(List.of(bytes("aa bb"), bytes("cc")));
        assertThat(hex(c)).isEqualTo("07 02 00 02 00 01 aa bb cc");
    }

    @Test
    void plainPacketIsTheMessageItself() throws Exception {
        assertThat(Packets.wrap(PING, false, PLAIN)).isEqualTo(PING);
        UnwrappedPacket u = Packets.unwrap(PING, PLAIN);
        assertThat(u.messages()).singleElement().isEqualTo(PING);
        assertThat(u.hadCrc()).isFalse();
    }

    @Test
    void crcIsBigEndianIeeeOverTheRest() throws Exception {
        byte[] wrapped = Packets.wrap(PING, true, PLAIN);
        CRC32 crc = new CRC32();
        crc.update(PING);
        long v = crc.getValue();
        assertThat(wrapped[0]).isEqualTo((byte) 12);
        assertThat(Arrays.copyOfRange(wrapped, 1, 5))
                .containsExactly((byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v);
        assertThat(Packets.unwrap(wrapped, PLAIN).hadCrc()).isTrue();
        wrapped[wrapped.length - 1] ^= 1;
        assertReason(() -> Packets.unwrap(wrapped, PLAIN), Reason.BAD_CHECKSUM);
    }

    @Test
    void compressesOnlyWhenItShrinksThePacket() throws Exception {
        assertThat(Packets.wrap(PING, false, WireOptions.DEFAULT)).isEqualTo(PING);
        List<byte[]> many = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            many.add(Codec.encode(new Message.Alive(i, "node-" + i, new byte[] {10, 0, 0, 1}, 7946,
                    new byte[0], new byte[] {1, 5, 2, 2, 5, 4})));
        }
        byte[] compound = Packets.compound(many);
        byte[] wrapped = Packets.wrap(compound, true, WireOptions.DEFAULT);
        assertThat(wrapped[5]).as("compress inside CRC").isEqualTo((byte) 9);
        assertThat(wrapped.length).isLessThan(compound.length);
        UnwrappedPacket u = Packets.unwrap(wrapped, WireOptions.DEFAULT);
        assertThat(u.messages()).hasSize(20);
        for (int i = 0; i < 20; i++) {
            assertThat(u.messages().get(i)).isEqualTo(many.get(i));
        }
    }

    @Test
    void labelIsPrefixedAndChecked() throws Exception {
        WireOptions red = PLAIN.withLabel("red");
        byte[] wrapped = Packets.wrap(PING, false, red);
        assertThat(Arrays.copyOf(wrapped, 5)).containsExactly(bytes("f4 03 'red'"));
        assertThat(Packets.unwrap(wrapped, red).messages()).singleElement().isEqualTo(PING);
        assertReason(() -> Packets.unwrap(wrapped, PLAIN.withLabel("blue")), Reason.LABEL_MISMATCH);
        assertReason(() -> Packets.unwrap(wrapped, PLAIN), Reason.LABEL_MISMATCH);
        assertReason(() -> Packets.unwrap(PING, red), Reason.LABEL_MISMATCH);
        WireOptions skip = new WireOptions("red", true, null, true, true, false, WireLimits.DEFAULT);
        assertThat(Packets.unwrap(PING, skip).messages()).hasSize(1);
        assertReason(() -> Packets.unwrap(wrapped, skip), Reason.LABEL_MISMATCH);
        assertReason(() -> Packets.unwrap(bytes("f4 00 00"), PLAIN), Reason.INVALID_BODY);
        assertReason(() -> Packets.unwrap(bytes("f4 05 'ab'"), PLAIN), Reason.TRUNCATED);
    }

    @Test
    void truncatedCompoundKeepsTheCompleteParts() throws Exception {
        byte[] c = bytes("07 03 00 01 00 01 00 05 08 08 08 01");
        UnwrappedPacket u = Packets.unwrap(c, PLAIN);
        assertThat(u.messages()).hasSize(2);
        assertThat(u.truncatedParts()).isEqualTo(1);
        assertReason(() -> Packets.unwrap(bytes("07 03 00 01 00"), PLAIN), Reason.TRUNCATED);
        assertReason(() -> Packets.unwrap(bytes("07 01 00 00"), PLAIN), Reason.TRUNCATED);
    }

    @Test
    void nestingAndMessageCountAreBounded() {
        byte[] inner = PING;
        for (int i = 0; i < 6; i++) {
            inner = Packets.compound(List.of(inner));
        }
        byte[] deep = inner;
        assertReason(() -> Packets.unwrap(deep, PLAIN), Reason.INVALID_BODY);

        List<byte[]> parts = new ArrayList<>();
        for (int i = 0; i < 255; i++) {
            parts.add(bytes("08"));
        }
        byte[] level1 = Packets.compound(parts);
        List<byte[]> outer = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            outer.add(level1);
        }
        byte[] big = Packets.compound(outer);
        assertReason(() -> Packets.unwrap(big, PLAIN), Reason.TOO_LARGE);
    }

    @Test
    void stateMachineMessagesAreNotPacketWrappers() {
        assertReason(() -> Packets.unwrap(bytes("0d 80"), PLAIN), Reason.UNKNOWN_TYPE);
        assertReason(() -> Packets.unwrap(bytes("06 80"), PLAIN), Reason.UNKNOWN_TYPE);
        assertReason(() -> Packets.unwrap(new byte[0], PLAIN), Reason.TRUNCATED);
    }

    @Test
    void packFillsTheBudgetAndSplitsInOrder() throws Exception {
        List<byte[]> messages = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            byte[] m = new byte[100];
            m[0] = 8;
            m[1] = (byte) i;
            messages.add(m);
        }
        int budget = Packets.payloadBudget(Packets.DEFAULT_UDP_BUFFER_SIZE, WireOptions.DEFAULT);
        List<byte[]> payloads = Packets.pack(messages, budget);
        assertThat(payloads).hasSizeGreaterThan(1);
        List<byte[]> back = new ArrayList<>();
        for (byte[] p : payloads) {
            byte[] wire = Packets.wrap(p, true, WireOptions.DEFAULT);
            assertThat(wire.length).isLessThanOrEqualTo(Packets.DEFAULT_UDP_BUFFER_SIZE);
            back.addAll(Packets.unwrap(wire, WireOptions.DEFAULT).messages());
        }
        assertThat(back).hasSize(100);
        for (int i = 0; i < 100; i++) {
            assertThat(back.get(i)).isEqualTo(messages.get(i));
        }
        List<byte[]> tiny = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            tiny.add(bytes("08"));
        }
        assertThat(Packets.pack(tiny, 65_000)).hasSize(3);
        assertThat(Packets.pack(List.of(PING), 1400)).singleElement().isEqualTo(PING);
    }

    @Test
    void encryptionSeamUsesTheLabelAsAssociatedData() throws Exception {
        WireOptions enc = PLAIN.withLabel("red").withCipher(TestCiphers.aesGcm(new byte[16]));
        byte[] wire = Packets.wrap(PING, true, enc);
        assertThat(wire[5]).as("version byte right after the label").isEqualTo((byte) 1);
        assertThat(wire.length).isEqualTo(5 + 29 + 5 + PING.length);
        UnwrappedPacket u = Packets.unwrap(wire, enc);
        assertThat(u.wasEncrypted()).isTrue();
        assertThat(u.messages()).singleElement().isEqualTo(PING);
        // Same key, label moved to the other side: authentication fails.
        byte[] relabelled = Packets.addLabel(Arrays.copyOfRange(wire, 5, wire.length), "blue");
        assertReason(() -> Packets.unwrap(relabelled, enc.withLabel("blue")), Reason.ENCRYPTION);
        assertReason(() -> Packets.unwrap(Packets.wrap(PING, false, PLAIN.withLabel("red")), enc), Reason.ENCRYPTION);
        WireOptions lenient = new WireOptions("red", false, enc.cipher(), false, true, false, WireLimits.DEFAULT);
        assertThat(Packets.unwrap(Packets.wrap(PING, false, PLAIN.withLabel("red")), lenient).wasEncrypted()).isFalse();
    }

    static void assertReason(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, Reason reason) {
        assertThatThrownBy(call).isInstanceOf(MalformedMessageException.class)
                .satisfies(e -> assertThat(((MalformedMessageException) e).reason()).isEqualTo(reason));
    }
}
