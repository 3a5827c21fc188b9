package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.hacluster.ClusterMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzz of the StreamingPort's frames: frames made by the real encoder (DATA of every kind,
 * reliable or not, compressed or not; ACK; PING with and without a time probe; GOODBYE; HELLO of
 * both versions; AUTH) are mutated (bit flips, overwritten bytes, truncation, trailing junk, a
 * random length prefix or type) and fed to the real decoders: first in process, through
 * {@link FrameDecoder} and the {@link Wire} decoders, in bulk; then over real sockets to a live
 * node, a valid HELLO followed by valid frames with mutated ones among them. Whatever arrives,
 * the decoders either decode it or refuse it with their own exceptions (nothing else may escape),
 * the live node keeps serving its real peer, and its heap stays bounded.
 *
 * <p>{@code -Dha.fuzz.stream.count=N} (default 150,000 in-process frames; the live part sends a
 * fiftieth of that, in connections of up to 40 frames) and {@code -Dha.fuzz.seed=S} (default fixed)
 * lengthen a run or explore another corpus; the seed is printed.
 */
class StreamFrameFuzzTest {

    private static final int MAX_FRAME = 64 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(30);

    /** Fixed by default so CI replays one corpus; {@code -Dha.fuzz.seed} explores others. */
    private final long seed = Long.getLong("ha.fuzz.seed", 0x5EEDF00DL);
    private final int count = Integer.getInteger("ha.fuzz.stream.count", 150_000);

    @Test
    void theDecodersDecodeOrRefuseEveryMutatedFrameAndNothingElseEscapes() {
        System.out.println("StreamFrameFuzzTest in process: seed " + seed + ", " + count + " frames");
        Random rnd = new Random(seed);
        long decoded = 0;
        long refused = 0;
        long incomplete = 0;
        for (int i = 0; i < count; i++) {
            byte[] frame = mutate(rnd, validFrame(rnd));
            EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(MAX_FRAME));
            boolean handshake = rnd.nextInt(8) == 0;
            if (!handshake) {
                ((FrameDecoder) channel.pipeline().first()).handshakeCompleted();
            }
            try {
                channel.writeInbound(Unpooled.wrappedBuffer(frame));
                ByteBuf slice = channel.readInbound();
                if (slice == null) {
                    incomplete++;
                    continue;
                }
                try {
                    decodeOne(slice);
                    decoded++;
                } catch (ProtocolException e) {
                    refused++;
                } finally {
                    slice.release();
                }
                for (ByteBuf extra; (extra = channel.readInbound()) != null; ) {
                    extra.release();
                }
            } catch (DecoderException e) {
                if (!(e.getCause() instanceof FrameTooLongException)) {
                    fail("seed " + seed + ", frame " + i + ": the frame decoder threw " + e, e);
                }
                refused++;
            } catch (RuntimeException e) {
                fail("seed " + seed + ", frame " + i + " (" + ByteBufUtil.hexDump(frame, 0, Math.min(64, frame.length))
                        + "...): a decoder threw " + e, e);
            } finally {
                channel.finishAndReleaseAll();
            }
        }
        System.out.printf("StreamFrameFuzzTest in process: %d decoded, %d refused, %d incomplete%n",
                decoded, refused, incomplete);
        assertThat(decoded + refused + incomplete).isEqualTo(count);
        assertThat(refused).isPositive();
        assertThat(decoded).isPositive(); // the mutations leave some frames valid: the corpus is real
    }

    @Test
    void aLiveNodeSurvivesMutatedFramesOnAuthenticatedLookingConnectionsAndKeepsServingItsPeer() throws Exception {
        int frames = Math.max(1_000, count / 50);
        System.out.println("StreamFrameFuzzTest live: seed " + seed + ", " + frames + " frames");
        Random rnd = new Random(seed);
        try (Nodes nodes = Nodes.start(2, c -> c
                .idleTimeout(Duration.ofSeconds(2))
                .handshakeTimeout(Duration.ofSeconds(1))
                .maxFrameSize(MAX_FRAME))) {
            Messenger a = nodes.get(0);
            Messenger b = nodes.get(1);
            AtomicLong handled = new AtomicLong();
            b.registerHandler("ping", in -> handled.incrementAndGet());
            b.registerHandler("fuzz", in -> handled.incrementAndGet());
            org.awaitility.Awaitility.await().atMost(WAIT)
                    .until(() -> a.connectedPeers().contains("node-b") && b.connectedPeers().contains("node-a"));
            long heapBefore = usedHeapAfterGc();
            MessengerStats before = b.stats();

            int sent = 0;
            int connections = 0;
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (sent < frames && System.nanoTime() < deadline) {
                connections++;
                try (Socket s = new Socket()) {
                    s.setSoLinger(true, 0); // a reset, as a crashed fuzzer would leave it
                    s.connect(new InetSocketAddress("127.0.0.1", b.localAddress().getPort()), 5_000);
                    OutputStream out = s.getOutputStream();
                    ByteBuf hello = Wire.hello("test-cluster", "node-0" + rnd.nextInt(10));
                    out.write(ByteBufUtil.getBytes(hello));
                    hello.release();
                    int perConnection = 1 + rnd.nextInt(40);
                    for (int i = 0; i < perConnection && sent < frames; i++, sent++) {
                        byte[] frame = validFrame(rnd);
                        out.write(rnd.nextInt(4) == 0 ? mutate(rnd, frame) : frame);
                    }
                    out.flush();
                } catch (IOException e) {
                    // node-b closed the connection on a bad frame, as it should: next connection
                }
            }
            assertThat(sent).as("frames sent within the time bound").isEqualTo(frames);

            // node-b still serves node-a: a reliable message is acknowledged, in order
            for (int i = 0; i < 3; i++) {
                a.sendTo("node-b", ClusterMessage.reliable("ping", new byte[] {(byte) i}).waitingForAll(true))
                        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
            assertThat(b.connectedPeers()).contains("node-a");
            MessengerStats after = b.stats();
            long refusals = (after.protocolErrors() - before.protocolErrors())
                    + (after.oversizeFrames() - before.oversizeFrames())
                    + (after.handshakeRejections() - before.handshakeRejections());
            long heapAfter = usedHeapAfterGc();
            System.out.printf("StreamFrameFuzzTest live: %d frames on %d connections, %d refusals counted, "
                            + "%d messages handled, heap %d -> %d MiB%n", sent, connections, refusals, handled.get(),
                    heapBefore >> 20, heapAfter >> 20);
            assertThat(refusals).as("bad frames are counted").isPositive();
            assertThat(heapAfter - heapBefore).as("heap growth after the fuzz, bytes").isLessThan(64L << 20);
        }
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Decodes a frame the way the stream handler dispatches it, by its type byte. */
    private static void decodeOne(ByteBuf frame) throws ProtocolException {
        if (!frame.isReadable()) {
            throw new ProtocolException("empty frame");
        }
        byte type = frame.readByte();
        switch (type) {
            case Wire.HELLO -> Wire.decodeHello(frame);
            case Wire.DATA -> Wire.decodeData(frame, MAX_FRAME);
            case Wire.ACK -> Wire.decodeAck(frame);
            case Wire.AUTH -> Wire.decodeAuth(frame);
            case Wire.PING, Wire.GOODBYE -> frame.skipBytes(frame.readableBytes());
            default -> throw new ProtocolException("unknown frame type " + type);
        }
    }

    /** One frame as the real encoder writes it, length prefix included. */
    private static byte[] validFrame(Random rnd) {
        switch (rnd.nextInt(10)) {
            case 0:
                return bytes(Wire.ack(rnd.nextInt(4), 1 + rnd.nextInt(1000)));
            case 1:
                return bytes(Wire.ping());
            case 2: { // PING carrying a time request, as ClockProbe sends it
                ByteBuf b = Unpooled.buffer();
                b.writeInt(1 + ClockProbe.REQUEST_LENGTH - 1);
                b.writeByte(Wire.PING);
                b.writeByte(ClockProbe.OP_TIME_REQUEST);
                b.writeLong(rnd.nextLong());
                return bytes(b);
            }
            case 3:
                return bytes(Wire.hello("test-cluster", "node-" + rnd.nextInt(100)));
            case 4: {
                byte[] nonce = new byte[HelloAuth.NONCE_BYTES];
                byte[] mac = new byte[HelloAuth.MAC_BYTES];
                rnd.nextBytes(nonce);
                rnd.nextBytes(mac);
                return bytes(rnd.nextBoolean() ? Wire.keyedHello("test-cluster", "node-1", nonce, mac) : Wire.auth(mac));
            }
            default: {
                byte[] data = new byte[rnd.nextInt(rnd.nextBoolean() ? 64 : 4096)];
                for (int i = 0; i < data.length; i++) {
                    data[i] = (byte) (rnd.nextInt(4) == 0 ? rnd.nextInt() : 'a' + i % 7); // compressible
                }
                boolean compress = rnd.nextBoolean();
                EncodedBody body = Wire.encodeBody(rnd.nextBoolean() ? "fuzz" : "ping",
                        rnd.nextBoolean() ? Map.of() : Map.of("k", "v" + rnd.nextInt(100)), data, compress, 32, MAX_FRAME);
                boolean reliable = rnd.nextBoolean();
                MessageKind kind = MessageKind.values()[rnd.nextInt(MessageKind.values().length)];
                byte[] header = Wire.dataHeader(body.bytes().length, reliable, body.compressed(), kind,
                        rnd.nextInt(3), reliable ? 1 + rnd.nextInt(100) : 0, kind == MessageKind.MESSAGE ? 0 : rnd.nextInt(50));
                byte[] frame = new byte[header.length + body.bytes().length];
                System.arraycopy(header, 0, frame, 0, header.length);
                System.arraycopy(body.bytes(), 0, frame, header.length, body.bytes().length);
                return frame;
            }
        }
    }

    private static byte[] bytes(ByteBuf b) {
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    /** One to three mutations of {@code frame}. */
    private static byte[] mutate(Random rnd, byte[] frame) {
        byte[] f = frame.clone();
        int mutations = 1 + rnd.nextInt(3);
        for (int m = 0; m < mutations && f.length > 0; m++) {
            switch (rnd.nextInt(7)) {
                case 0 -> f[rnd.nextInt(f.length)] ^= (byte) (1 << rnd.nextInt(8));
                case 1 -> f[rnd.nextInt(f.length)] = (byte) rnd.nextInt();
                case 2 -> f = java.util.Arrays.copyOf(f, rnd.nextInt(f.length));
                case 3 -> {
                    byte[] junk = new byte[1 + rnd.nextInt(64)];
                    rnd.nextBytes(junk);
                    byte[] longer = java.util.Arrays.copyOf(f, f.length + junk.length);
                    System.arraycopy(junk, 0, longer, f.length, junk.length);
                    f = longer;
                }
                case 4 -> { // a random length prefix: small, near the limit, or huge
                    if (f.length >= 4) {
                        int len = switch (rnd.nextInt(3)) {
                            case 0 -> rnd.nextInt(64);
                            case 1 -> MAX_FRAME - 2 + rnd.nextInt(5);
                            default -> rnd.nextInt();
                        };
                        f[0] = (byte) (len >>> 24);
                        f[1] = (byte) (len >>> 16);
                        f[2] = (byte) (len >>> 8);
                        f[3] = (byte) len;
                    }
                }
                case 5 -> { // another type byte
                    if (f.length >= 5) {
                        f[4] = (byte) rnd.nextInt(20);
                    }
                }
                default -> { // a field inside the body set to an extreme
                    if (f.length > 8) {
                        int at = 5 + rnd.nextInt(f.length - 5);
                        byte v = rnd.nextBoolean() ? (byte) 0xFF : 0;
                        for (int i = at; i < Math.min(f.length, at + 4); i++) {
                            f[i] = v;
                        }
                    }
                }
            }
        }
        return f;
    }
}
