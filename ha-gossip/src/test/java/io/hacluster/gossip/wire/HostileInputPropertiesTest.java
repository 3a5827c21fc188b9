package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Every decoder in the package, fed random bytes, mutated valid input, lengths no limit allows
 * and decompression bombs: the only exception that may come out is
 * {@link MalformedMessageException}, with a reason and a message; each input is handled within a
 * generous time bound (a hang detector, not a speed assertion); and the bytes allocated while
 * handling one input stay bounded, which a decoder that trusted a hostile length would break.
 *
 * <p>Inputs come from {@link SeededProperty}: a fixed base seed, overridable with
 * {@code -Dha.test.seed=...} to explore or to replay a reported failure. Valid inputs are built
 * with this package's encoders ({@link ValidWireInputs}) and wrapped by senders whose label and
 * key some receiver shares, so mutations made beneath the CRC, the cipher and the compression
 * reach the message decoders. Each property also checks that its inputs reached the outcomes it
 * is about (decoded, rejected for several reasons), so a generator that degenerated into
 * inputs every decoder rejects at the first byte would fail the test.
 */
class HostileInputPropertiesTest {

    private static final Duration HANG_BOUND = Duration.ofSeconds(20);
    private static final int MIB = 1024 * 1024;
    /**
     * Four receivers each decompress at most {@code maxPacketDecompressedBytes} (1 MiB) per
     * packet; far below what trusting one 32-bit length (up to 4 GiB) would take.
     */
    private static final long PACKET_ALLOCATION_BOUND = 32L * MIB;
    /**
     * Streams may decompress up to {@code maxStreamDecompressedBytes} (40 MiB, memberlist's own
     * bound), so the bound is higher; still far below a trusted 4 GiB length.
     */
    private static final long STREAM_ALLOCATION_BOUND = 96L * MIB;
    /** Inputs whose lengths announce more than 20 MiB, decoded by four receivers: a few KiB each. */
    private static final long HOSTILE_LENGTH_ALLOCATION_BOUND = 4L * MIB;
    /** Decompression bounded at {@link #LZW_BOUND} needs its tables and at most a few copies of that. */
    private static final long LZW_ALLOCATION_BOUND = 2L * MIB;
    private static final int LZW_BOUND = 8_000;
    /** The stream decompression bound the stream bombs are aimed at (packets have 1 MiB already). */
    private static final int BOMB_BOUND = MIB;
    /**
     * Four receivers each expanding a bomb up to a 1 MiB bound, growing their buffer by doubling;
     * the bombs expand to 29 MiB and more, so a receiver that ignored its bound would exceed this.
     */
    private static final long BOMB_ALLOCATION_BOUND = 24L * MIB;

    private static final List<WireOptions> RECEIVERS = ValidWireInputs.RECEIVERS;
    private static final List<WireOptions> BOMB_RECEIVERS = RECEIVERS.stream()
            .map(o -> o.withLimits(withStreamDecompressionBound(o.limits(), BOMB_BOUND)))
            .toList();
    private static final Set<Reason> LENGTH_REASONS = EnumSet.of(Reason.TRUNCATED, Reason.TOO_LARGE);

    /** Type bytes (and the label marker) put first in half of the random inputs. */
    private static final byte[] LEADING_BYTES = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, (byte) 244};

    // ------------------------------------------------------------------ generated inputs are valid

    @Test
    void generatedPacketsDecodeToMessagesThatReEncodeIdentically() {
        property("generatedPackets", 150, PACKET_ALLOCATION_BOUND).withoutShrinking()
                .check(ValidWireInputs::packet, HostileInputPropertiesTest::packetDecodesAndReEncodes);
    }

    @Test
    void generatedStreamsFrameExactlyAndDecodeToMessagesThatReEncodeIdentically() {
        property("generatedStreams", 150, STREAM_ALLOCATION_BOUND).withoutShrinking()
                .check(ValidWireInputs::stream, HostileInputPropertiesTest::streamFramesDecodesAndReEncodes);
    }

    @Test
    void handMadeLzwBombIsValidLzwThatExpandsAsAnnounced() throws MalformedMessageException {
        byte[] bomb = HostileWireInputs.lzwBomb(2);
        int expansion = (int) HostileWireInputs.lzwBombExpansion(2);
        assertThat(bomb.length).isLessThan(12_000);
        assertThat(Lzw.decompress(bomb, expansion)).isEqualTo(new byte[expansion]);
        try {
            Lzw.decompress(bomb, expansion - 1);
            fail("decompressed " + expansion + " bytes under a bound of " + (expansion - 1));
        } catch (MalformedMessageException expected) {
            assertThat(expected.reason()).isEqualTo(Reason.TOO_LARGE);
        }
    }

    @Test
    void lzwRoundTripsAndEnforcesItsBoundToTheByte() {
        property("lzwRoundTrip", 100, 8L * MIB)
                .check(ValidWireInputs::lzwPlaintext, HostileInputPropertiesTest::lzwRoundTripsWithinExactBound);
    }

    // ------------------------------------------------------------------ packets

    @Test
    void randomPacketsOnlyEverFailAsMalformed() {
        Outcomes outcomes = new Outcomes();
        property("randomPackets", 400, PACKET_ALLOCATION_BOUND)
                .check(r -> randomBytes(r, 1500), packet -> receiveEverywhere(packet, outcomes));
        outcomes.requireRejectionReasons(4);
    }

    @Test
    void mutatedPacketsOnlyEverFailAsMalformed() {
        Outcomes outcomes = new Outcomes();
        property("mutatedPackets", 600, PACKET_ALLOCATION_BOUND).check(
                r -> ByteMutator.mutate(ValidWireInputs.packet(r), ValidWireInputs.packet(r), r),
                packet -> receiveEverywhere(packet, outcomes));
        outcomes.requireClean();
        outcomes.requireRejectionReasons(6);
    }

    /** Mutations made before the CRC, cipher and compression are applied, so they reach the codec. */
    @Test
    void packetsMutatedBeneathTheirWrappersOnlyEverFailAsMalformed() {
        Outcomes outcomes = new Outcomes();
        property("packetsMutatedBeneathWrappers", 400, PACKET_ALLOCATION_BOUND).check(
                HostileInputPropertiesTest::packetMutatedBeneathItsWrappers,
                packet -> receiveEverywhere(packet, outcomes));
        outcomes.requireClean();
        outcomes.requireSeen("decode:" + Reason.INVALID_BODY, "decode:" + Reason.TRUNCATED,
                "unwrap:" + Reason.COMPRESSION, "unwrap:" + Reason.UNKNOWN_TYPE);
    }

    @Test
    void hostilePacketLengthsAreRejectedWithoutTrustingThem() {
        Outcomes outcomes = new Outcomes();
        property("hostilePacketLengths", 300, HOSTILE_LENGTH_ALLOCATION_BOUND).withoutShrinking()
                .check(HostileWireInputs::packet, packet -> refusedForLength(packet, outcomes));
        outcomes.requireSeen("truncated-parts", "decode:" + Reason.TRUNCATED, "decode:" + Reason.TOO_LARGE);
    }

    @Test
    void packetDecompressionBombsStopAtTheBound() {
        property("packetBombs", 30, BOMB_ALLOCATION_BOUND).withoutShrinking()
                .check(HostileWireInputs::packetBomb, HostileInputPropertiesTest::packetExpansionRefused);
    }

    // ------------------------------------------------------------------ streams

    @Test
    void randomStreamsOnlyEverFailAsMalformed() {
        Outcomes outcomes = new Outcomes();
        property("randomStreams", 400, STREAM_ALLOCATION_BOUND)
                .check(r -> randomBytes(r, 1500), stream -> receiveStreamEverywhere(stream, outcomes));
        outcomes.requireRejectionReasons(4);
    }

    @Test
    void mutatedStreamsOnlyEverFailAsMalformed() {
        Outcomes outcomes = new Outcomes();
        property("mutatedStreams", 600, STREAM_ALLOCATION_BOUND).check(
                r -> ByteMutator.mutate(ValidWireInputs.stream(r), ValidWireInputs.stream(r), r),
                stream -> receiveStreamEverywhere(stream, outcomes));
        outcomes.requireClean();
        outcomes.requireSeen("incomplete");
        outcomes.requireRejectionReasons(6);
    }

    /** Mutations made before the cipher and compression are applied, so they reach the codec. */
    @Test
    void streamsMutatedBeneathTheirWrappersOnlyEverFailAsMalformed() {
        Outcomes outcomes = new Outcomes();
        property("streamsMutatedBeneathWrappers", 300, STREAM_ALLOCATION_BOUND).check(
                HostileInputPropertiesTest::streamMutatedBeneathItsWrappers,
                stream -> receiveStreamEverywhere(stream, outcomes));
        outcomes.requireClean();
        outcomes.requireSeen("decode:" + Reason.INVALID_BODY, "decode:" + Reason.TRUNCATED,
                "unwrap:" + Reason.COMPRESSION);
    }

    /**
     * A length beyond the limits is refused from the header bytes alone: framing throws
     * {@code TOO_LARGE} instead of asking for the announced bytes, and no prefix is ever
     * mistaken for a whole message.
     */
    @Test
    void hostileStreamLengthsAreRejectedFromTheHeaderAlone() {
        property("hostileStreamLengths", 300, HOSTILE_LENGTH_ALLOCATION_BOUND).withoutShrinking()
                .check(HostileWireInputs::streamHeader, HostileInputPropertiesTest::refusedFromHeader);
    }

    @Test
    void streamDecompressionBombsStopAtTheBound() {
        property("streamBombs", 30, BOMB_ALLOCATION_BOUND).withoutShrinking()
                .check(HostileWireInputs::streamBomb, HostileInputPropertiesTest::streamExpansionRefused);
    }

    // ------------------------------------------------------------------ LZW

    @Test
    void randomLzwOnlyEverFailsAsMalformedAndRespectsTheBound() {
        Outcomes outcomes = new Outcomes();
        property("randomLzw", 300, LZW_ALLOCATION_BOUND)
                .check(r -> ValidWireInputs.bytes(r, 3000), data -> decompress(data, outcomes));
        outcomes.requireSeen("rejected:" + Reason.COMPRESSION);
    }

    @Test
    void mutatedLzwOnlyEverFailsAsMalformedAndRespectsTheBound() {
        Outcomes outcomes = new Outcomes();
        property("mutatedLzw", 400, LZW_ALLOCATION_BOUND).check(
                r -> ByteMutator.mutate(Lzw.compress(ValidWireInputs.lzwPlaintext(r)), ValidWireInputs.bytes(r, 64), r),
                data -> decompress(data, outcomes));
        outcomes.requireSeen("clean", "rejected:" + Reason.COMPRESSION, "rejected:" + Reason.TOO_LARGE);
    }

    // ------------------------------------------------------------------ inputs mutated beneath their wrappers

    /** A packet payload (or the LZW data of its compressed form) mutated, then wrapped validly. */
    private static byte[] packetMutatedBeneathItsWrappers(Random r) {
        byte[] payload = ValidWireInputs.packetPayload(ValidWireInputs.packetMessages(r));
        byte[] donor = ValidWireInputs.packetPayload(ValidWireInputs.packetMessages(r));
        byte[] mutated = r.nextInt(3) == 0
                ? Codec.encodeCompress(ByteMutator.mutate(Lzw.compress(payload), donor, r))
                : ByteMutator.mutate(payload, donor, r);
        return Packets.wrap(mutated, r.nextBoolean(), ValidWireInputs.sender(r));
    }

    /** A stream message (or the LZW data of its compressed form) mutated, then wrapped validly. */
    private static byte[] streamMutatedBeneathItsWrappers(Random r) {
        byte[] message = ValidWireInputs.streamMessage(r);
        byte[] donor = ValidWireInputs.streamMessage(r);
        WireOptions sender = ValidWireInputs.sender(r);
        if (r.nextInt(3) == 0) {
            byte[] lzw = ByteMutator.mutate(Lzw.compress(message), donor, r);
            return Streams.wrap(Codec.encodeCompress(lzw), sender.withCompression(false));
        }
        return Streams.wrap(ByteMutator.mutate(message, donor, r), sender);
    }

    // ------------------------------------------------------------------ checks

    /**
     * Some receiver decodes every message of a valid packet, and each re-encodes to the same
     * bytes. A receiver without the sender's key may read ciphertext as plaintext and fail later.
     */
    private static void packetDecodesAndReEncodes(byte[] packet) throws MalformedMessageException {
        int accepted = 0;
        for (WireOptions receiver : RECEIVERS) {
            if (!receivePacket(packet, receiver).clean()) {
                continue;
            }
            for (byte[] m : Packets.unwrap(packet, receiver).messages()) {
                assertThat(Codec.encode(Codec.decode(m, receiver.limits()))).isEqualTo(m);
            }
            accepted++;
        }
        assertThat(accepted).as("receivers that accept a valid packet").isPositive();
    }

    /** A valid stream frames to exactly its length and some receiver decodes and re-encodes it. */
    private static void streamFramesDecodesAndReEncodes(byte[] stream) throws MalformedMessageException {
        assertThat(frame(stream, WireLimits.DEFAULT, 1 + stream.length % 11))
                .isEqualTo(new Framed(stream.length, null));
        int accepted = 0;
        for (WireOptions receiver : RECEIVERS) {
            byte[] message;
            try {
                message = Streams.unwrap(stream, receiver);
            } catch (MalformedMessageException rejected) {
                continue;
            }
            assertThat(reEncode(message, receiver.limits())).as("%s", receiver).isEqualTo(message);
            accepted++;
        }
        assertThat(accepted).as("receivers that accept a valid stream").isPositive();
    }

    /** LZW gives back any plaintext under a bound of its length, and refuses one byte less. */
    private static void lzwRoundTripsWithinExactBound(byte[] plain) throws MalformedMessageException {
        byte[] compressed = Lzw.compress(plain);
        assertThat(Lzw.decompress(compressed, plain.length)).isEqualTo(plain);
        if (plain.length > 0) {
            try {
                Lzw.decompress(compressed, plain.length - 1);
                fail("decompressed " + plain.length + " bytes under a bound of " + (plain.length - 1));
            } catch (MalformedMessageException expected) {
                assertThat(expected.reason()).isEqualTo(Reason.TOO_LARGE);
            }
        }
    }

    /** No receiver decodes the packet cleanly, and one reaches the hostile length and refuses it. */
    private static void refusedForLength(byte[] packet, Outcomes outcomes) {
        boolean rejectedForLength = false;
        for (WireOptions receiver : RECEIVERS) {
            Received r = receivePacket(packet, receiver);
            outcomes.count(r.outcome());
            assertThat(r.clean()).as("%s decoded a packet announcing more than it holds", receiver).isFalse();
            rejectedForLength |= r.rejectedForLength();
        }
        assertThat(rejectedForLength).as("some receiver reached the hostile length and refused it").isTrue();
    }

    private static void packetExpansionRefused(byte[] packet) {
        boolean stopped = false;
        for (WireOptions receiver : RECEIVERS) {
            Received r = receivePacket(packet, receiver);
            assertThat(r.clean()).as("%s expanded a packet beyond its bound", receiver).isFalse();
            stopped |= r.unwrapRejected() == Reason.TOO_LARGE;
        }
        assertThat(stopped).as("some receiver refused the expansion as too large").isTrue();
    }

    /** Framing throws TOO_LARGE on the header, at once and byte by byte; no receiver decodes it. */
    private static void refusedFromHeader(byte[] stream) {
        Framed whole = frame(stream, WireLimits.DEFAULT, stream.length);
        assertThat(whole.rejected()).as("framing the header at once: %s", whole).isEqualTo(Reason.TOO_LARGE);
        assertThat(frame(stream, WireLimits.DEFAULT, 1)).as("framing byte by byte").isEqualTo(whole);
        for (WireOptions receiver : RECEIVERS) {
            try {
                decodeByType(Streams.unwrap(stream, receiver), receiver.limits());
                fail(receiver + " decoded a stream announcing more than any limit allows");
            } catch (MalformedMessageException expected) {
                requireExplained(expected);
            }
        }
    }

    private static void streamExpansionRefused(byte[] stream) {
        boolean stopped = false;
        for (WireOptions receiver : BOMB_RECEIVERS) {
            try {
                Streams.unwrap(stream, receiver);
                fail(receiver + " expanded a stream beyond its bound");
            } catch (MalformedMessageException expected) {
                requireExplained(expected);
                stopped |= expected.reason() == Reason.TOO_LARGE;
            }
        }
        assertThat(stopped).as("some receiver refused the expansion as too large").isTrue();
    }

    // ------------------------------------------------------------------ what receivers do

    /** How one receiver handled one input. */
    private record Received(Reason unwrapRejected, Reason decodeRejected, int truncatedParts) {

        boolean clean() {
            return unwrapRejected == null && decodeRejected == null && truncatedParts == 0;
        }

        boolean rejectedForLength() {
            return LENGTH_REASONS.contains(unwrapRejected) || LENGTH_REASONS.contains(decodeRejected)
                    || truncatedParts > 0;
        }

        String outcome() {
            if (unwrapRejected != null) {
                return "unwrap:" + unwrapRejected;
            }
            if (decodeRejected != null) {
                return "decode:" + decodeRejected;
            }
            return truncatedParts > 0 ? "truncated-parts" : "clean";
        }
    }

    private static void receiveEverywhere(byte[] packet, Outcomes outcomes) {
        for (WireOptions receiver : RECEIVERS) {
            outcomes.count(receivePacket(packet, receiver).outcome());
        }
    }

    /** What a receiver does with a datagram: unwrap, then decode every message. */
    private static Received receivePacket(byte[] packet, WireOptions receiver) {
        UnwrappedPacket u;
        try {
            u = Packets.unwrap(packet, receiver);
        } catch (MalformedMessageException e) {
            requireExplained(e);
            return new Received(e.reason(), null, 0);
        }
        assertThat(u.messages().size()).isLessThanOrEqualTo(receiver.limits().maxMessagesPerPacket());
        Reason decodeRejected = null;
        for (byte[] m : u.messages()) {
            try {
                Codec.decode(m, receiver.limits());
            } catch (MalformedMessageException e) {
                requireExplained(e);
                decodeRejected = decodeRejected == null ? e.reason() : decodeRejected;
            }
        }
        return new Received(null, decodeRejected, u.truncatedParts());
    }

    /**
     * What a stream reader does: frame from growing prefixes (which must agree with framing the
     * whole input at once), then for each receiver unwrap and decode by type. Input that never
     * completes a frame is still unwrapped whole, to cover the unwrapper on arbitrary bytes.
     */
    private static void receiveStreamEverywhere(byte[] stream, Outcomes outcomes) {
        Framed framed = frame(stream, WireLimits.DEFAULT, 1 + stream.length % 11);
        assertThat(framed).as("framing from growing prefixes agrees with framing at once")
                .isEqualTo(frame(stream, WireLimits.DEFAULT, stream.length));
        if (framed.rejected() != null) {
            outcomes.count("frame:" + framed.rejected());
        } else if (framed.length() == StreamFraming.NEED_MORE) {
            outcomes.count("incomplete");
        }
        byte[] frame = framed.length() > 0 ? Arrays.copyOf(stream, framed.length()) : stream;
        for (WireOptions receiver : RECEIVERS) {
            byte[] message;
            try {
                message = Streams.unwrap(frame, receiver);
            } catch (MalformedMessageException e) {
                requireExplained(e);
                outcomes.count("unwrap:" + e.reason());
                continue;
            }
            try {
                decodeByType(message, receiver.limits());
                outcomes.count("clean");
            } catch (MalformedMessageException e) {
                requireExplained(e);
                outcomes.count("decode:" + e.reason());
            }
        }
    }

    /** The outcome of framing: a length, {@link StreamFraming#NEED_MORE}, or a rejection. */
    private record Framed(int length, Reason rejected) {
    }

    /** Frames {@code stream} as it arrives {@code step} bytes at a time, ending with all of it. */
    private static Framed frame(byte[] stream, WireLimits limits, int step) {
        StreamFraming framing = new StreamFraming(limits);
        try {
            int length = StreamFraming.NEED_MORE;
            for (int have = Math.min(step, stream.length); length == StreamFraming.NEED_MORE; have += step) {
                length = framing.frameLength(ByteBuffer.wrap(stream, 0, Math.min(have, stream.length)));
                if (have >= stream.length) {
                    break;
                }
            }
            if (length != StreamFraming.NEED_MORE) {
                assertThat(length).as("frame length").isBetween(1, stream.length);
            }
            return new Framed(length, null);
        } catch (MalformedMessageException e) {
            requireExplained(e);
            return new Framed(StreamFraming.NEED_MORE, e.reason());
        }
    }

    private static Object decodeByType(byte[] message, WireLimits limits) throws MalformedMessageException {
        return switch (Codec.typeOf(message)) {
            case PUSH_PULL -> Codec.decodePushPull(message, limits);
            case USER -> Codec.decodeUserStream(message, limits);
            default -> Codec.decode(message, limits);
        };
    }

    private static byte[] reEncode(byte[] message, WireLimits limits) throws MalformedMessageException {
        return switch (Codec.typeOf(message)) {
            case PUSH_PULL -> Codec.encodePushPull(Codec.decodePushPull(message, limits));
            case USER -> Codec.encodeUserStream(Codec.decodeUserStream(message, limits));
            default -> Codec.encode(Codec.decode(message, limits));
        };
    }

    private static void decompress(byte[] data, Outcomes outcomes) {
        try {
            assertThat(Lzw.decompress(data, LZW_BOUND).length).isLessThanOrEqualTo(LZW_BOUND);
            outcomes.count("clean");
        } catch (MalformedMessageException e) {
            requireExplained(e);
            outcomes.count("rejected:" + e.reason());
        }
    }

    private static void requireExplained(MalformedMessageException e) {
        assertThat(e.reason()).isNotNull();
        assertThat(e.getMessage()).isNotBlank();
    }

    // ------------------------------------------------------------------ inputs and tallies

    private static SeededProperty property(String name, int cases, long allocationBound) {
        return new SeededProperty(name, cases, HANG_BOUND, allocationBound);
    }

    /** Random bytes; half of them start with a type byte or the label marker. */
    private static byte[] randomBytes(Random random, int maxLength) {
        byte[] b = ValidWireInputs.bytes(random, maxLength);
        if (b.length > 0 && random.nextBoolean()) {
            b[0] = LEADING_BYTES[random.nextInt(LEADING_BYTES.length)];
        }
        return b;
    }

    private static WireLimits withStreamDecompressionBound(WireLimits l, int bound) {
        return new WireLimits(l.maxPushStateBytes(), l.maxUserMessageBytes(), l.maxPushNodes(),
                l.maxMetaBytes(), l.maxStreamMessageBytes(), bound, l.maxPacketDecompressedBytes(),
                l.maxMessagesPerPacket());
    }

    /**
     * How often each outcome occurred ({@code clean}, {@code unwrap:REASON}, {@code decode:REASON},
     * ...), counted on the property's worker thread and read after it finished.
     */
    private static final class Outcomes {
        private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

        void count(String outcome) {
            counts.computeIfAbsent(outcome, k -> new LongAdder()).increment();
        }

        void requireClean() {
            requireSeen("clean");
        }

        void requireSeen(String... outcomes) {
            assertThat(counts.keySet()).as("outcomes %s", this).contains(outcomes);
        }

        void requireRejectionReasons(int atLeast) {
            long reasons = counts.keySet().stream().filter(k -> k.contains(":"))
                    .map(k -> k.substring(k.indexOf(':') + 1)).distinct().count();
            assertThat(reasons).as("distinct rejection reasons in %s", this).isGreaterThanOrEqualTo(atLeast);
        }

        @Override
        public String toString() {
            Map<String, Long> sorted = new TreeMap<>();
            counts.forEach((k, v) -> sorted.put(k, v.sum()));
            return sorted.toString();
        }
    }
}
