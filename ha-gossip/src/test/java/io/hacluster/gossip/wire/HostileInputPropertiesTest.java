package io.hacluster.gossip.wire;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Every decoder in the package, fed random bytes and mutated valid input: the only exception
 * that may come out is {@link MalformedMessageException}; each input is handled within a
 * generous time bound (a hang detector, not a speed assertion); and the bytes allocated while
 * handling one input stay bounded, which a decoder that trusted a hostile length would break.
 */
class HostileInputPropertiesTest {

    /** Far above what a valid input of these sizes needs, far below what a trusted 2 GiB length takes. */
    private static final long ALLOCATION_BOUND = 96L * 1024 * 1024;
    private static final Duration HANG_BOUND = Duration.ofSeconds(20);

    private static final WireOptions LABELLED = WireOptions.DEFAULT.withLabel("prod");
    private static final List<WireOptions> OPTIONS = List.of(WireOptions.DEFAULT, LABELLED,
            WireOptions.DEFAULT.withCipher(TestCiphers.aesGcm(new byte[16])));

    private static final List<byte[]> VALID_PACKETS = validPackets();
    private static final List<byte[]> VALID_STREAMS = validStreams();

    private static List<byte[]> validPackets() {
        List<byte[]> messages = List.of(
                Codec.encode(new Message.Ping(1, "node-a", new byte[] {127, 0, 0, 1}, 7946, "node-b")),
                Codec.encode(new Message.IndirectPing(2, new byte[] {10, 0, 0, 9}, 7946, "c", true, null, 0, "")),
                Codec.encode(new Message.Ack(3, new byte[] {1, 2})),
                Codec.encode(new Message.Nack(4)),
                Codec.encode(new Message.Suspect(5, "x", "y")),
                Codec.encode(new Message.Alive(6, "z", new byte[16], 1, new byte[40], new byte[] {1, 5, 2, 2, 5, 4})),
                Codec.encode(new Message.Dead(7, "z", "z")),
                Codec.encode(new Message.User(new byte[60])));
        List<byte[]> out = new ArrayList<>();
        for (byte[] m : messages) {
            out.add(Packets.wrap(m, false, WireOptions.DEFAULT));
            out.add(Packets.wrap(m, true, LABELLED));
        }
        byte[] compound = Packets.compound(messages);
        out.add(Packets.wrap(compound, true, WireOptions.DEFAULT));
        out.add(Packets.wrap(compound, false, WireOptions.DEFAULT.withCompression(false)));
        out.add(Packets.wrap(compound, true, LABELLED));
        return out;
    }

    private static List<byte[]> validStreams() {
        List<byte[]> out = new ArrayList<>();
        for (byte[] m : StreamsTest.sampleStreamMessages()) {
            if (m.length < 20_000) {
                out.add(Streams.wrap(m, WireOptions.DEFAULT.withCompression(false)));
                out.add(Streams.wrap(m, WireOptions.DEFAULT));
                out.add(Streams.wrap(m, LABELLED));
            }
        }
        return out;
    }

    @Provide
    Arbitrary<byte[]> mutatedPackets() {
        return mutate(Arbitraries.of(VALID_PACKETS));
    }

    @Provide
    Arbitrary<byte[]> mutatedStreams() {
        return mutate(Arbitraries.of(VALID_STREAMS));
    }

    /** Flips, overwrites with extreme length bytes, truncates, or splices bytes into valid input. */
    private static Arbitrary<byte[]> mutate(Arbitrary<byte[]> valid) {
        Arbitrary<Integer> kind = Arbitraries.integers().between(0, 4);
        Arbitrary<Integer> where = Arbitraries.integers().between(0, 1 << 20);
        Arbitrary<Integer> count = Arbitraries.integers().between(1, 8);
        Arbitrary<Byte> value = Arbitraries.oneOf(Arbitraries.bytes(),
                Arbitraries.of((byte) 0xff, (byte) 0x7f, (byte) 0xdb, (byte) 0xdf, (byte) 0xdd, (byte) 0xc6, (byte) 0x00));
        return Combinators.combine(valid, kind, where, count, value).as((bytes, k, w, c, v) -> {
            byte[] b = bytes.clone();
            if (b.length == 0) {
                return b;
            }
            int at = w % b.length;
            switch (k) {
                case 0 -> {
                    for (int i = 0; i < c && at + i < b.length; i++) {
                        b[at + i] ^= (byte) (1 << (i % 8));
                    }
                }
                case 1 -> {
                    for (int i = 0; i < c && at + i < b.length; i++) {
                        b[at + i] = v;
                    }
                }
                case 2 -> b = Arrays.copyOf(b, at);
                case 3 -> {
                    byte[] spliced = new byte[b.length + c];
                    System.arraycopy(b, 0, spliced, 0, at);
                    Arrays.fill(spliced, at, at + c, v);
                    System.arraycopy(b, at, spliced, at + c, b.length - at);
                    b = spliced;
                }
                default -> b[at] = v;
            }
            return b;
        });
    }

    @Property(tries = 400)
    void randomPacketsOnlyEverFailAsMalformed(@ForAll @Size(max = 1500) byte[] packet) {
        bounded(() -> handlePacket(packet));
    }

    @Property(tries = 400)
    void mutatedPacketsOnlyEverFailAsMalformed(@ForAll("mutatedPackets") byte[] packet) {
        bounded(() -> handlePacket(packet));
    }

    @Property(tries = 400)
    void randomStreamsOnlyEverFailAsMalformed(@ForAll @Size(max = 1500) byte[] stream) {
        bounded(() -> handleStream(stream));
    }

    @Property(tries = 400)
    void mutatedStreamsOnlyEverFailAsMalformed(@ForAll("mutatedStreams") byte[] stream) {
        bounded(() -> handleStream(stream));
    }

    @Property(tries = 300)
    void randomLzwOnlyEverFailsAsMalformedAndRespectsTheBound(@ForAll @Size(max = 3000) byte[] data) {
        bounded(() -> {
            try {
                assertThat(Lzw.decompress(data, 100_000).length).isLessThanOrEqualTo(100_000);
            } catch (MalformedMessageException expected) {
                assertThat(expected.reason()).isNotNull();
            }
        });
    }

    /** What a receiver does with a datagram: unwrap, then decode every message. */
    private static void handlePacket(byte[] packet) {
        for (WireOptions options : OPTIONS) {
            try {
                UnwrappedPacket u = Packets.unwrap(packet, options);
                for (byte[] m : u.messages()) {
                    try {
                        Codec.decode(m, options.limits());
                    } catch (MalformedMessageException expected) {
                        assertThat(expected.getMessage()).isNotBlank();
                    }
                }
            } catch (MalformedMessageException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }

    /** What a stream reader does: frame from growing prefixes, unwrap, decode by type. */
    private static void handleStream(byte[] stream) {
        for (WireOptions options : OPTIONS) {
            try {
                StreamFraming framing = new StreamFraming(options.limits());
                int length = StreamFraming.NEED_MORE;
                for (int have = 0; have <= stream.length && length == StreamFraming.NEED_MORE; have += 7) {
                    length = framing.frameLength(ByteBuffer.wrap(stream, 0, have));
                }
                if (length == StreamFraming.NEED_MORE) {
                    length = framing.frameLength(ByteBuffer.wrap(stream));
                }
                if (length == StreamFraming.NEED_MORE) {
                    continue;
                }
                assertThat(length).isBetween(1, stream.length);
                byte[] message = Streams.unwrap(Arrays.copyOf(stream, length), options);
                switch (Codec.typeOf(message)) {
                    case PUSH_PULL -> Codec.decodePushPull(message, options.limits());
                    case USER -> Codec.decodeUserStream(message, options.limits());
                    default -> Codec.decode(message, options.limits());
                }
            } catch (MalformedMessageException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }

    private static void bounded(Runnable work) {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTimeoutPreemptively(HANG_BOUND, () -> {
            long before = threads.getCurrentThreadAllocatedBytes();
            work.run();
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertThat(allocated).as("bytes allocated for one input").isLessThan(ALLOCATION_BOUND);
        });
    }
}
